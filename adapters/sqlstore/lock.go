package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jwtauth/jwtauth/domain"
)

// ErrLocked is wrapped by LockSQLite's error when another process holds
// the database.
var ErrLocked = errors.New("sqlstore: the SQLite database is in use by another process")

// LockSQLite takes the advisory lock of the SQLite database at path: an
// exclusive flock on path+".lock", which holds the PID of its holder. A
// process cache would be stale after changes made by another process, so
// only one process may serve a SQLite database. The lock is released by
// calling unlock, or when the process ends.
//
// When another process holds it, the error wraps ErrLocked and
// domain.ErrUnavailable and names the file and the holder's PID.
func LockSQLite(path string) (unlock func(), err error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600) // #nosec G304 -- the operator's data dir
	if err != nil {
		return nil, fmt.Errorf("%w: sqlstore: lock file: %w", domain.ErrUnavailable, err)
	}
	if err := flock(f); err != nil {
		holder := lockHolder(f)
		_ = f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w: %w: %s is held by PID %s (lock %s); cross-process use needs PostgreSQL",
				domain.ErrUnavailable, ErrLocked, path, holder, name)
		}
		return nil, fmt.Errorf("%w: sqlstore: lock %s: %w", domain.ErrUnavailable, name, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = f.Truncate(0)
		_ = funlock(f)
		_ = f.Close()
	}, nil
}

// lockHolder reads the holder's PID from the lock file, waiting briefly
// for a holder that has just taken the lock to write it.
func lockHolder(f *os.File) string {
	buf := make([]byte, 32)
	for range 20 {
		n, _ := f.ReadAt(buf, 0)
		if pid := strings.TrimSpace(string(buf[:n])); pid != "" {
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	return "unknown"
}
