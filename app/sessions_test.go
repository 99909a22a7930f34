package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

func TestLogoutOneAllOthers(t *testing.T) {
	ctx := context.Background()
	t.Run("logout ends only this device", func(t *testing.T) {
		f := newFixture(t, nil)
		a, b := f.login(t, "alice", alice), f.login(t, "alice", phone)
		require.NoError(t, f.svc.Logout(ctx, a.SessionID))
		_, err := f.svc.Authenticate(ctx, a.AccessToken, alice)
		assert.ErrorIs(t, err, domain.ErrRevoked)
		_, err = f.svc.Refresh(ctx, a.RefreshToken, alice)
		assert.ErrorIs(t, err, domain.ErrRevoked)
		_, err = f.svc.Authenticate(ctx, b.AccessToken, phone)
		assert.NoError(t, err)
		assert.ErrorIs(t, f.svc.Logout(ctx, a.SessionID), domain.ErrSessionNotFound, "twice")
		assert.ErrorIs(t, f.svc.Logout(ctx, "nope"), domain.ErrSessionNotFound)
	})
	t.Run("logout all", func(t *testing.T) {
		f := newFixture(t, nil)
		a, b := f.login(t, "alice", alice), f.login(t, "alice", phone)
		bob := f.login(t, "bob", tablet)
		require.NoError(t, f.svc.LogoutAll(ctx, "alice"))
		for _, p := range []struct {
			pair app.Pair
			c    domain.ClientInfo
		}{{a, alice}, {b, phone}} {
			_, err := f.svc.Authenticate(ctx, p.pair.AccessToken, p.c)
			assert.ErrorIs(t, err, domain.ErrRevoked)
			_, err = f.svc.Refresh(ctx, p.pair.RefreshToken, p.c)
			assert.ErrorIs(t, err, domain.ErrRevoked)
		}
		_, err := f.svc.Authenticate(ctx, bob.AccessToken, tablet)
		assert.NoError(t, err, "other users stay in")
		sessions, err := f.svc.Sessions(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, sessions)
		f.login(t, "alice", alice) // logging in again works
	})
	t.Run("logout others", func(t *testing.T) {
		f := newFixture(t, nil)
		a, b, c := f.login(t, "alice", alice), f.login(t, "alice", phone), f.login(t, "alice", tablet)
		require.NoError(t, f.svc.LogoutOthers(ctx, "alice", b.SessionID))
		_, err := f.svc.Authenticate(ctx, b.AccessToken, phone)
		assert.NoError(t, err)
		_, err = f.svc.Authenticate(ctx, a.AccessToken, alice)
		assert.ErrorIs(t, err, domain.ErrRevoked)
		_, err = f.svc.Authenticate(ctx, c.AccessToken, tablet)
		assert.ErrorIs(t, err, domain.ErrRevoked)
		sessions, err := f.svc.Sessions(ctx, "alice")
		require.NoError(t, err)
		require.Len(t, sessions, 1)
		assert.Equal(t, b.SessionID, sessions[0].ID)
	})
}

func TestSessionsAndRevokeSession(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	a := f.login(t, "alice", alice)
	f.clock.Add(time.Second)
	b := f.login(t, "alice", phone)
	bob := f.login(t, "bob", tablet)

	sessions, err := f.svc.Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, sessions, 2)
	assert.Equal(t, a.SessionID, sessions[0].ID, "oldest first")
	assert.Equal(t, "Firefox", sessions[0].DeviceName)
	assert.Equal(t, alice.IP, sessions[0].IP)

	assert.ErrorIs(t, f.svc.RevokeSession(ctx, "alice", bob.SessionID), domain.ErrSessionNotFound, "another user's session")
	_, err = f.svc.Authenticate(ctx, bob.AccessToken, tablet)
	assert.NoError(t, err, "bob is still in")
	assert.ErrorIs(t, f.svc.RevokeSession(ctx, "alice", "unknown"), domain.ErrSessionNotFound)

	require.NoError(t, f.svc.RevokeSession(ctx, "alice", b.SessionID))
	_, err = f.svc.Authenticate(ctx, b.AccessToken, phone)
	assert.ErrorIs(t, err, domain.ErrRevoked)
	sessions, err = f.svc.Sessions(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, sessions, 1)
}

func TestDeviceLimitPolicies(t *testing.T) {
	ctx := context.Background()
	t.Run("evict oldest", func(t *testing.T) {
		f := newFixture(t, func(c *app.Config) { c.DevicePolicy = domain.DevicePolicy{Limit: 2} })
		a := f.login(t, "alice", alice)
		f.clock.Add(time.Second)
		b := f.login(t, "alice", phone)
		f.clock.Add(time.Second)
		c := f.login(t, "alice", tablet)
		_, err := f.svc.Authenticate(ctx, a.AccessToken, alice)
		assert.ErrorIs(t, err, domain.ErrRevoked, "oldest evicted")
		_, err = f.svc.Authenticate(ctx, b.AccessToken, phone)
		assert.NoError(t, err)
		_, err = f.svc.Authenticate(ctx, c.AccessToken, tablet)
		assert.NoError(t, err)
	})
	t.Run("reject", func(t *testing.T) {
		f := newFixture(t, func(c *app.Config) { c.DevicePolicy = domain.DevicePolicy{Limit: 2, OnLimit: domain.Reject} })
		a := f.login(t, "alice", alice)
		f.login(t, "alice", phone)
		_, err := f.svc.Login(ctx, "alice", User{}, tablet)
		assert.ErrorIs(t, err, domain.ErrDeviceLimitReached)
		_, err = f.svc.Authenticate(ctx, a.AccessToken, alice)
		assert.NoError(t, err, "a rejected login changes nothing")
		again := f.login(t, "alice", alice) // same device: replaces, no slot
		_, err = f.svc.Authenticate(ctx, a.AccessToken, alice)
		assert.ErrorIs(t, err, domain.ErrRevoked, "the replaced session ended")
		_, err = f.svc.Authenticate(ctx, again.AccessToken, alice)
		assert.NoError(t, err)
	})
	t.Run("revoke all", func(t *testing.T) {
		f := newFixture(t, func(c *app.Config) { c.DevicePolicy = domain.DevicePolicy{Limit: 2, OnLimit: domain.RevokeAll} })
		a := f.login(t, "alice", alice)
		b := f.login(t, "alice", phone)
		c := f.login(t, "alice", tablet)
		for _, p := range []struct {
			pair app.Pair
			c    domain.ClientInfo
		}{{a, alice}, {b, phone}} {
			_, err := f.svc.Authenticate(ctx, p.pair.AccessToken, p.c)
			assert.ErrorIs(t, err, domain.ErrRevoked)
		}
		_, err := f.svc.Authenticate(ctx, c.AccessToken, tablet)
		assert.NoError(t, err, "the new login is the first of the new generation")
		sessions, err := f.svc.Sessions(ctx, "alice")
		require.NoError(t, err)
		assert.Len(t, sessions, 1)
	})
}

func TestConcurrentLoginsRespectDeviceLimit(t *testing.T) {
	for _, policy := range []domain.LimitAction{domain.EvictOldest, domain.Reject, domain.RevokeAll} {
		t.Run(string(policy), func(t *testing.T) {
			f := newFixture(t, func(c *app.Config) { c.DevicePolicy = domain.DevicePolicy{Limit: 3, OnLimit: policy} })
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for i := range 100 {
				wg.Go(func() {
					c := alice
					c.DeviceID = fmt.Sprintf("device-%d", i)
					_, err := f.svc.Login(ctx, "alice", f.users["alice"], c)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			ok := 0
			for err := range errs {
				if err == nil {
					ok++
					continue
				}
				require.ErrorIs(t, err, domain.ErrDeviceLimitReached)
			}
			sessions, err := f.svc.Sessions(ctx, "alice")
			require.NoError(t, err)
			if policy == domain.RevokeAll {
				assert.LessOrEqual(t, len(sessions), 3)
				assert.NotEmpty(t, sessions)
			} else {
				assert.Len(t, sessions, 3)
			}
			if policy == domain.Reject {
				assert.Equal(t, 3, ok)
			}
		})
	}
}

func TestConcurrentRotatingRefreshes(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.RotateRefresh = true })
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	var wg sync.WaitGroup
	var mu sync.Mutex
	okCount := 0
	for range 50 {
		wg.Go(func() {
			_, err := f.svc.Refresh(ctx, pair.RefreshToken, alice)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				okCount++
				return
			}
			assert.True(t, errors.Is(err, domain.ErrRefreshReused) || errors.Is(err, domain.ErrRevoked), "%v", err)
		})
	}
	wg.Wait()
	// The first rotates, the rest fall inside the grace interval: the clock
	// does not move, so all succeed and the counter advanced exactly once.
	assert.Equal(t, 50, okCount)
	sessions, err := f.svc.Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, sessions, 1)
	assert.Equal(t, uint64(1), sessions[0].RefreshCounter)
}

func TestWarmCacheTouchesNoStore(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)
	before := f.store.calls.Load()
	for range 100 {
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
		require.NoError(t, err)
	}
	assert.Equal(t, before, f.store.calls.Load())
}

// unhealthyBus is a bus that lost its connection.
type unhealthyBus struct{ memory.Bus }

func (*unhealthyBus) Healthy() bool { return false }

func TestUnhealthyBusBypassesCache(t *testing.T) {
	f := newFixture(t, nil)
	deps := f.deps
	deps.Bus = &unhealthyBus{}
	svc, err := app.New(f.cfg, deps)
	require.NoError(t, err)
	ctx := context.Background()
	pair, err := svc.Login(ctx, "alice", User{}, alice)
	require.NoError(t, err)
	for range 3 {
		_, err := svc.Authenticate(ctx, pair.AccessToken, alice)
		require.NoError(t, err)
	}
	before := f.store.calls.Load()
	_, err = svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)
	assert.Equal(t, before+2, f.store.calls.Load(), "generation and session read from the store")
}

func TestInvalidationReachesOtherInstances(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	// Instance B shares the store and bus but has its own cache.
	deps := f.deps
	deps.Cache = &memory.Cache{}
	b, err := app.New(f.cfg, deps)
	require.NoError(t, err)

	pair := f.login(t, "alice", alice)
	_, err = b.Authenticate(ctx, pair.AccessToken, alice) // warm B's cache
	require.NoError(t, err)
	require.NoError(t, f.svc.LogoutAll(ctx, "alice"))
	_, err = b.Authenticate(ctx, pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrRevoked)

	pair = f.login(t, "alice", alice)
	_, err = b.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)
	require.NoError(t, f.svc.Logout(ctx, pair.SessionID))
	_, err = b.Authenticate(ctx, pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrRevoked)
}

// downStore is a store whose database is unreachable.
type downStore struct{}

var _ ports.Store = downStore{}

func (downStore) Generation(context.Context, string, domain.TokenType) (string, error) {
	return "", domain.ErrUnavailable
}
func (downStore) Session(context.Context, string) (domain.Session, error) {
	return domain.Session{}, domain.ErrUnavailable
}
func (downStore) Sessions(context.Context, string) ([]domain.Session, error) {
	return nil, domain.ErrUnavailable
}
func (downStore) UpdateUser(context.Context, string, func(domain.UserAuth) (ports.UserChange, error)) error {
	return domain.ErrUnavailable
}
func (downStore) Prune(context.Context, time.Time, time.Time) (int64, error) {
	return 0, domain.ErrUnavailable
}

func TestStoreDownFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	deps := f.deps
	deps.Store = downStore{}
	deps.Cache = nil
	svc, err := app.New(f.cfg, deps)
	require.NoError(t, err)

	_, err = svc.Authenticate(ctx, pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	_, err = svc.Verify(ctx, pair.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	_, err = svc.Refresh(ctx, pair.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	_, err = svc.Login(ctx, "alice", User{}, alice)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	assert.ErrorIs(t, svc.LogoutAll(ctx, "alice"), domain.ErrUnavailable)
	assert.ErrorIs(t, svc.Logout(ctx, pair.SessionID), domain.ErrUnavailable)
	_, err = svc.Sessions(ctx, "alice")
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	_, err = svc.Prune(ctx)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

func TestPrune(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.SessionMaxAge = time.Hour })
	ctx := context.Background()
	a := f.login(t, "alice", alice)
	f.login(t, "alice", phone)
	require.NoError(t, f.svc.Logout(ctx, a.SessionID))
	f.clock.Add(time.Second)
	n, err := f.svc.Prune(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the revoked session")
	f.clock.Add(2 * time.Hour)
	n, err = f.svc.Prune(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the expired session")
}

func TestNewValidates(t *testing.T) {
	_, err := app.New(app.Config{}, app.Deps[User]{})
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	f := newFixture(t, nil)
	for _, cfg := range []app.Config{
		{AccessTTL: -1}, {IPBinding: "loose"}, {DevicePolicy: domain.DevicePolicy{OnLimit: "kick"}},
		{DevicePolicy: domain.DevicePolicy{Limit: -1}}, {IdleTimeout: -time.Second},
	} {
		_, err := app.New(cfg, f.deps)
		assert.ErrorIs(t, err, domain.ErrInvalidArgument, "%+v", cfg)
	}
}

func TestIdleSessionsArePruned(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.IdleTimeout = 30 * time.Minute })
	ctx := context.Background()
	idle := f.login(t, "alice", alice)
	f.clock.Add(20 * time.Minute)
	busy := f.login(t, "alice", phone)
	f.clock.Add(11 * time.Minute)
	n, err := f.svc.Prune(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the session idle for 31 minutes")
	_, err = f.svc.Refresh(ctx, idle.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrRevoked)
	_, err = f.svc.Refresh(ctx, busy.RefreshToken, phone)
	assert.NoError(t, err)
}

func TestIdleTimeoutMustExceedAccessTTL(t *testing.T) {
	f := newFixture(t, nil)
	_, err := app.New(app.Config{IdleTimeout: 5 * time.Minute}, f.deps)
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
}
