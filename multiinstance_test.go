package jwtauth_test

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
	"github.com/jwtauth/jwtauth/ports"
)

// readCounter counts the lookups that reach the database.
type readCounter struct {
	ports.Store
	reads atomic.Int64
}

func (s *readCounter) Generation(ctx context.Context, u string, t domain.TokenType) (string, error) {
	s.reads.Add(1)
	return s.Store.Generation(ctx, u, t)
}

func (s *readCounter) Session(ctx context.Context, id string) (domain.Session, error) {
	s.reads.Add(1)
	return s.Store.Session(ctx, id)
}

type instance struct {
	svc     *app.Service[struct{}]
	backend *jwtauth.Backend
	store   *readCounter
}

// newInstance starts one service instance (its own pools, bigcache and
// LISTEN connection) on the shared database of cfg.
func newInstance(t *testing.T, cfg jwtauth.Config) instance {
	t.Helper()
	b, cleanup, err := jwtauth.NewPostgresBackend(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(cleanup)
	counter := &readCounter{Store: b.Store}
	b.Store = counter
	svc, err := jwtauth.NewService[struct{}](cfg, b, nil)
	require.NoError(t, err)
	waitHealthy(t, b.Bus)
	return instance{svc: svc, backend: b, store: counter}
}

func waitHealthy(t *testing.T, bus ports.Bus) {
	t.Helper()
	require.Eventually(t, bus.Healthy, 10*time.Second, 5*time.Millisecond, "bus never became healthy")
}

// rejectedWithin polls until in rejects the token with ErrRevoked and
// returns how long that took after the revocation returned.
func rejectedWithin(t *testing.T, in instance, token string, client domain.ClientInfo, since time.Time) time.Duration {
	t.Helper()
	for time.Since(since) < 10*time.Second {
		_, err := in.svc.Authenticate(context.Background(), token, client)
		if err != nil {
			require.ErrorIs(t, err, domain.ErrRevoked)
			return time.Since(since)
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatal("instance B kept accepting a revoked token for 10s")
	return 0
}

func TestTwoInstancesInvalidateEachOther(t *testing.T) {
	cfg := testConfig(t)
	cfg.DatabaseURL = pgtest.DSN(t)
	a, b := newInstance(t, cfg), newInstance(t, cfg)
	ctx := context.Background()
	client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "laptop"}

	t.Run("logout all on A", func(t *testing.T) {
		pair, err := a.svc.Login(ctx, "alice", struct{}{}, client)
		require.NoError(t, err)
		for _, in := range []instance{a, b} {
			_, err := in.svc.Authenticate(ctx, pair.AccessToken, client)
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool {
			reads := b.store.reads.Load()
			_, err := b.svc.Authenticate(ctx, pair.AccessToken, client)
			require.NoError(t, err)
			return reads == b.store.reads.Load()
		}, 5*time.Second, 10*time.Millisecond, "B serves from its warm cache")

		start := time.Now()
		require.NoError(t, a.svc.LogoutAll(ctx, "alice"))
		_, err = a.svc.Authenticate(ctx, pair.AccessToken, client)
		require.ErrorIs(t, err, domain.ErrRevoked, "A rejects at once")
		t.Logf("instance B rejected the token %v after LogoutAll returned on A", rejectedWithin(t, b, pair.AccessToken, client, start))
	})

	t.Run("revoke one session on A", func(t *testing.T) {
		pair, err := a.svc.Login(ctx, "bob", struct{}{}, client)
		require.NoError(t, err)
		other, err := a.svc.Login(ctx, "bob", struct{}{}, domain.ClientInfo{IP: client.IP, DeviceID: "phone"})
		require.NoError(t, err)
		for _, p := range []app.Pair{pair, other} {
			_, err = b.svc.Authenticate(ctx, p.AccessToken, domain.ClientInfo{IP: client.IP, DeviceID: map[bool]string{true: "laptop", false: "phone"}[p == pair]})
			require.NoError(t, err)
		}
		start := time.Now()
		require.NoError(t, a.svc.RevokeSession(ctx, "bob", pair.SessionID))
		t.Logf("instance B rejected the revoked session's token %v after RevokeSession returned on A", rejectedWithin(t, b, pair.AccessToken, client, start))
		_, err = b.svc.Authenticate(ctx, other.AccessToken, domain.ClientInfo{IP: client.IP, DeviceID: "phone"})
		assert.NoError(t, err, "the other device stays in")
	})
}

func TestListenerLossNeverKeepsRevokedTokenValid(t *testing.T) {
	cfg := testConfig(t)
	cfg.DatabaseURL = pgtest.DSN(t)
	a := newInstance(t, cfg)
	cfg.DatabaseURL += "&application_name=jwtauth_b"
	b := newInstance(t, cfg)
	ctx := context.Background()
	client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "laptop"}

	pair, err := a.svc.Login(ctx, "alice", struct{}{}, client)
	require.NoError(t, err)
	_, err = b.svc.Authenticate(ctx, pair.AccessToken, client)
	require.NoError(t, err) // B's cache is warm

	// Kill every LISTEN connection of this database, then revoke while the
	// listeners are down: the notification is lost.
	// Kill every connection of instance B (its pool and its LISTEN
	// connection), then revoke on A at once: B's notification is lost.
	var killed int
	require.NoError(t, a.backend.DB.QueryRowContext(ctx, `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'jwtauth_b'`).Scan(&killed))
	require.Positive(t, killed)
	require.NoError(t, a.svc.LogoutAll(ctx, "alice"))
	start := time.Now()

	// B never accepts the token again: while its listener is down it reads
	// the store (or fails closed with ErrUnavailable), after it reconnects
	// it has flushed its cache.
	var unavailable int
	for time.Since(start) < 300*time.Millisecond || !b.backend.Bus.Healthy() {
		_, err := b.svc.Authenticate(ctx, pair.AccessToken, client)
		require.Error(t, err, "B accepted a revoked token")
		if errors.Is(err, domain.ErrUnavailable) {
			unavailable++
			continue
		}
		require.ErrorIs(t, err, domain.ErrRevoked)
		require.Less(t, time.Since(start), 15*time.Second, "B never reconnected")
	}
	t.Logf("killed %d connections of B; B rejected the revoked token throughout (%d times fail-closed 503 while reconnecting) and reconnected after %v",
		killed, unavailable, time.Since(start))
	for range 50 {
		_, err = b.svc.Authenticate(ctx, pair.AccessToken, client)
		require.ErrorIs(t, err, domain.ErrRevoked)
	}

	// After reconnecting, B caches again. (A's login also announces the
	// new session, which may evict B's first fill: poll until warm.)
	fresh, err := a.svc.Login(ctx, "alice", struct{}{}, client)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		reads := b.store.reads.Load()
		_, err := b.svc.Authenticate(ctx, fresh.AccessToken, client)
		require.NoError(t, err)
		return reads == b.store.reads.Load()
	}, 5*time.Second, 10*time.Millisecond, "B never served from its cache after reconnecting")
}
