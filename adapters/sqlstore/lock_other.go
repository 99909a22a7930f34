//go:build !unix

package sqlstore

import (
	"errors"
	"os"
)

// Without flock the lock is not enforced.
var errWouldBlock = errors.New("would block")

func flock(*os.File) error   { return nil }
func funlock(*os.File) error { return nil }
