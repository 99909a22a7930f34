package sqlstore_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

var limit3 = domain.DevicePolicy{Limit: 3, OnLimit: domain.EvictOldest}

// login is what the Login use case does in the store: under the user's
// lock, apply the device policy to the active sessions and put the new one.
func login(ctx context.Context, st ports.Store, userID, deviceID string, policy domain.DevicePolicy) (domain.Session, error) {
	var sess domain.Session
	err := st.UpdateUser(ctx, userID, func(state domain.UserAuth) (ports.UserChange, error) {
		t := time.Now()
		active := make([]domain.Session, 0, len(state.Sessions))
		for _, s := range state.Sessions {
			if s.Active(t, 0) {
				active = append(active, s)
			}
		}
		d, err := policy.Decide(active, deviceID)
		if err != nil {
			return ports.UserChange{}, err
		}
		sess = domain.Session{
			ID:         domain.NewID(),
			UserID:     userID,
			DeviceID:   deviceID,
			DeviceName: "agent " + deviceID,
			IP:         netip.MustParseAddr("203.0.113.9"),
			CreatedAt:  t,
			LastSeenAt: t,
			ExpiresAt:  t.Add(720 * time.Hour),
		}
		c := ports.UserChange{Put: []domain.Session{sess}, Revoke: d.Revoke, RevokedAt: t}
		if d.RotateGenerations {
			c.NewAccessGeneration, c.NewRefreshGeneration = domain.NewGeneration(), domain.NewGeneration()
		}
		return c, nil
	})
	return sess, err
}

// loginConcurrently runs logins logins of alice at once, login i from
// device deviceOf(i), and checks that exactly the limit of 3 remains, one
// per device.
func loginConcurrently(t *testing.T, st ports.Store, logins int, deviceOf func(i int) string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, logins)
	for i := range logins {
		wg.Go(func() {
			_, err := login(t.Context(), st, "alice", deviceOf(i), limit3)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	live, err := st.Sessions(t.Context(), "alice")
	require.NoError(t, err)
	require.Len(t, live, 3, "exactly the limit remains")
	devices := map[string]bool{}
	for _, s := range live {
		assert.False(t, devices[s.DeviceID], "one session per device")
		devices[s.DeviceID] = true
	}
}

// TestConcurrentReloginsRespectDeviceLimit: 100 logins from 10 devices,
// so that domain.DevicePolicy replaces a device's session as well as
// evicting the oldest. (Logins from new devices only are the StoreSuite's
// "Concurrent/device limit" case.)
func TestConcurrentReloginsRespectDeviceLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := b.newStore(b.open(t))
		loginConcurrently(t, st, 100, func(i int) string { return fmt.Sprintf("device-%d", i%10) })
	})
}

// TestPostgresUsersDoNotBlockEachOther holds alice's lock (her fn waits on
// a channel) while bob logs in; a second update of alice must wait.
func TestPostgresUsersDoNotBlockEachOther(t *testing.T) {
	st := backends[0].newStore(openPostgres(t))
	ctx := t.Context()
	// alice exists, so her second update waits on SELECT ... FOR UPDATE.
	_, err := login(ctx, st, "alice", "laptop", limit3)
	require.NoError(t, err)

	holding, release := make(chan struct{}), make(chan struct{})
	aliceDone := make(chan error, 1)
	go func() {
		aliceDone <- st.UpdateUser(ctx, "alice", func(domain.UserAuth) (ports.UserChange, error) {
			close(holding)
			<-release
			return ports.UserChange{NewAccessGeneration: domain.NewGeneration()}, nil
		})
	}()
	<-holding

	bobCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err = login(bobCtx, st, "bob", "phone", limit3)
	require.NoError(t, err, "bob is not blocked by alice's lock")
	t.Logf("bob's login while alice is locked: %v", time.Since(start))

	waitCtx, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	called := false
	err = st.UpdateUser(waitCtx, "alice", func(domain.UserAuth) (ports.UserChange, error) {
		called = true
		return ports.UserChange{}, nil
	})
	require.ErrorIs(t, err, context.DeadlineExceeded, "alice's second update waits for her lock")
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.False(t, called)

	close(release)
	require.NoError(t, <-aliceDone)
	_, err = login(ctx, st, "alice", "phone", limit3)
	require.NoError(t, err, "alice's lock is free again")
}

// TestPostgresParallelUsersTiming logs (does not assert) how 8 users
// logging in in parallel compare with 8 callers sharing one user.
func TestPostgresParallelUsersTiming(t *testing.T) {
	const (
		callers = 8
		each    = 25
	)
	st := backends[0].newStore(openPostgres(t))
	run := func(user func(i int) string) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				for j := range each {
					_, err := login(t.Context(), st, user(i), fmt.Sprintf("device-%d", j%5), limit3)
					assert.NoError(t, err)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	// Warm the pool and create the users first.
	run(func(i int) string { return fmt.Sprintf("user-%d", i) })
	parallel := run(func(i int) string { return fmt.Sprintf("user-%d", i) })
	shared := run(func(int) string { return "user-0" })
	t.Logf("%d callers x %d logins: %d different users %v (%v/login), one user %v (%v/login)",
		callers, each, callers, parallel, parallel/(callers*each), shared, shared/(callers*each))
}

// TestSQLiteDeferredTransactions checks that UpdateUser serializes even on
// a database opened without _txlock=immediate: its first statement is a
// write, which takes the write lock before anything is read.
func TestSQLiteDeferredTransactions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwtauth.db")
	db, err := sqlx.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, sqlstore.Migrate(t.Context(), db))
	st := sqlstore.NewSQLite(db)
	loginConcurrently(t, st, 50, func(i int) string { return fmt.Sprintf("device-%d", i) })
}
