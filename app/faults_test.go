package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// waitingStore makes its first UpdateUser wait (the clock moves by wait)
// before it takes the lock, as a stalled database or pool would.
type waitingStore struct {
	ports.Store
	clock  *clock
	wait   time.Duration
	waited atomic.Bool
}

func (s *waitingStore) UpdateUser(ctx context.Context, id string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	if !s.waited.Swap(true) {
		s.clock.Add(s.wait)
	}
	return s.Store.UpdateUser(ctx, id, fn)
}

// A refresh that waited 20 s for the lock stamps its rotation when it
// was made: the client, which never got the answer, resends the same
// token 5 s later and gets a working pair, not refresh_reused.
func TestRefreshRetryAfterAStallGetsAValidPair(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.RotateRefresh = true; c.ReuseGrace = 10 * time.Second })
	ctx := context.Background()
	first := f.login(t, "alice", alice)
	f.deps.Store = &waitingStore{Store: f.deps.Store, clock: f.clock, wait: 20 * time.Second}
	svc, err := app.New(f.cfg, f.deps)
	require.NoError(t, err)

	_, err = svc.Refresh(ctx, first.RefreshToken, alice) // its answer is lost
	require.NoError(t, err)
	f.clock.Add(5 * time.Second)
	retry, err := svc.Refresh(ctx, first.RefreshToken, alice)
	require.NoError(t, err, "a retry within the grace of the rotation")
	_, err = svc.Authenticate(ctx, retry.AccessToken, alice)
	require.NoError(t, err)
	next, err := svc.Refresh(ctx, retry.RefreshToken, alice)
	require.NoError(t, err, "the retried pair's refresh token is the current one")
	require.NotEmpty(t, next.RefreshToken)
}

// failingStore fails every call with a store timeout while fail is set.
type failingStore struct {
	ports.Store
	fail atomic.Bool
}

var errStoreTimeout = fmt.Errorf("%w: test: %w", domain.ErrUnavailable, context.DeadlineExceeded)

func (s *failingStore) Generation(ctx context.Context, u string, t domain.TokenType) (string, error) {
	if s.fail.Load() {
		return "", errStoreTimeout
	}
	return s.Store.Generation(ctx, u, t)
}

func (s *failingStore) Sessions(ctx context.Context, u string) ([]domain.Session, error) {
	if s.fail.Load() {
		return nil, errStoreTimeout
	}
	return s.Store.Sessions(ctx, u)
}

func TestStoreTimeoutFlushesTheCache(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	fs := &failingStore{Store: f.deps.Store}
	f.deps.Store = fs
	svc, err := app.New(f.cfg, f.deps)
	require.NoError(t, err)
	pair, err := svc.Login(ctx, "alice", f.users["alice"], alice)
	require.NoError(t, err)
	_, err = svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)
	_, cached := f.deps.Cache.Get(ports.GenerationKey("alice", domain.Access))
	require.True(t, cached, "warm")

	fs.fail.Store(true)
	_, err = svc.Sessions(ctx, "alice")
	require.ErrorIs(t, err, domain.ErrUnavailable)
	_, cached = f.deps.Cache.Get(ports.GenerationKey("alice", domain.Access))
	assert.False(t, cached, "a store timeout flushed the cache")
	_, err = svc.Authenticate(ctx, pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrUnavailable, "and nothing is valid while the store cannot say")
}

// syncBus is a memory bus that can confirm delivery, or not.
type syncBus struct {
	ports.Bus
	syncs atomic.Int64
	fail  atomic.Bool
}

func (b *syncBus) Sync(context.Context) error {
	b.syncs.Add(1)
	if b.fail.Load() {
		return fmt.Errorf("%w: test: not confirmed", domain.ErrUnavailable)
	}
	return nil
}

// Every revoking call returns only after the bus confirmed delivery; an
// unconfirmed revocation is reported unavailable, never as done.
func TestRevocationsWaitForTheBus(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.RotateRefresh = true; c.ReuseGrace = -1 })
	ctx := context.Background()
	bus := &syncBus{Bus: f.deps.Bus}
	f.deps.Bus = bus
	svc, err := app.New(f.cfg, f.deps)
	require.NoError(t, err)
	login := func() app.Pair {
		p, err := svc.Login(ctx, "alice", f.users["alice"], alice)
		require.NoError(t, err)
		return p
	}
	login()
	assert.Zero(t, bus.syncs.Load(), "a login that revokes nothing does not wait")
	var p app.Pair
	calls := []struct {
		name string
		do   func() error
	}{
		{"Logout", func() error { return svc.Logout(ctx, p.SessionID) }},
		{"RevokeSession", func() error { return svc.RevokeSession(ctx, "alice", p.SessionID) }},
		{"LogoutOthers", func() error { return svc.LogoutOthers(ctx, "alice", "other") }},
		{"LogoutAll", func() error { return svc.LogoutAll(ctx, "alice") }},
		{"Invalidate", func() error { return svc.Invalidate(ctx, "alice", domain.Access) }},
		{"refresh reuse", func() error {
			_, err := svc.Refresh(ctx, p.RefreshToken, alice)
			require.NoError(t, err)
			f.clock.Add(time.Second)
			_, err = svc.Refresh(ctx, p.RefreshToken, alice)
			if errors.Is(err, domain.ErrRefreshReused) {
				return nil
			}
			return fmt.Errorf("want reuse: %w", err)
		}},
	}
	for _, c := range calls {
		p = login() // replaces the device's previous session: a revocation too
		before := bus.syncs.Load()
		require.NoError(t, c.do(), c.name)
		assert.Equal(t, before+1, bus.syncs.Load(), "%s waited for the bus once", c.name)
	}
	bus.fail.Store(true)
	err = svc.LogoutAll(ctx, "alice")
	assert.ErrorIs(t, err, domain.ErrUnavailable, "unconfirmed")
}
