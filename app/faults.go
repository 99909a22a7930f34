package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// flushingStore is the Service's Store: every store call that runs out of
// time flushes the cache, since a database that does not answer may also
// have stopped feeding the bus.
type flushingStore struct {
	ports.Store
	flush func()
}

func (f flushingStore) check(err error) error {
	if errors.Is(err, domain.ErrUnavailable) && errors.Is(err, context.DeadlineExceeded) {
		f.flush()
	}
	return err
}

func (f flushingStore) Generation(ctx context.Context, userID string, typ domain.TokenType) (string, error) {
	gen, err := f.Store.Generation(ctx, userID, typ)
	return gen, f.check(err)
}

func (f flushingStore) Session(ctx context.Context, sessionID string) (domain.Session, error) {
	sess, err := f.Store.Session(ctx, sessionID)
	return sess, f.check(err)
}

func (f flushingStore) Sessions(ctx context.Context, userID string) ([]domain.Session, error) {
	all, err := f.Store.Sessions(ctx, userID)
	return all, f.check(err)
}

func (f flushingStore) UpdateUser(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	return f.check(f.Store.UpdateUser(ctx, userID, fn))
}

func (f flushingStore) Prune(ctx context.Context, before, idleBefore time.Time) (int64, error) {
	n, err := f.Store.Prune(ctx, before, idleBefore)
	return n, f.check(err)
}

// flush drops every cached entry, and every cache fill under way.
func (s *Service[U]) flush() {
	if s.deps.Cache == nil {
		return
	}
	s.epoch.Add(1)
	s.deps.Cache.Reset()
}

// revoking reports whether a change revokes tokens: a rotated generation
// or a revoked session.
func revoking(c ports.UserChange) bool {
	return c.NewAccessGeneration != "" || c.NewRefreshGeneration != "" || len(c.Revoke) > 0
}

// sync waits, when the bus can confirm delivery (ports.Syncer), until a
// revocation just committed has reached every listening instance, so that
// the next request anywhere rejects the revoked token. The change is made
// either way; an unconfirmed one is reported as unavailable, because the
// caller cannot be told it is in effect everywhere.
func (s *Service[U]) sync(ctx context.Context) error {
	syncer, ok := s.deps.Bus.(ports.Syncer)
	if !ok {
		return nil
	}
	if err := syncer.Sync(ctx); err != nil {
		return fmt.Errorf("%w: the revocation is made but its delivery to other instances is not confirmed: %w", domain.ErrUnavailable, err)
	}
	return nil
}
