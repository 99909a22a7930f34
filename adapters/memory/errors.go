package memory

import (
	"fmt"

	"github.com/jwtauth/jwtauth/domain"
)

func unavailable(err error) error { return fmt.Errorf("%w: %w", domain.ErrUnavailable, err) }
