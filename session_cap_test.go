package jwtauth_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// TestSessionCapUnderConcurrentLogins: 100 concurrent logins of one user
// from 100 devices, with no device limit, on PostgreSQL and SQLite: the
// user never holds more than JWTAUTH_MAX_SESSIONS live sessions, every
// login succeeds, and the sessions kept are usable. Without the cap all
// 100 stayed live (and, over time, thousands).
func TestSessionCapUnderConcurrentLogins(t *testing.T) {
	const maxSessions, logins = 10, 100
	for _, db := range []string{"postgres", "sqlite"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			cfg := testConfig(t)
			if db == "postgres" {
				cfg.DatabaseURL = pgtest.DSN(t)
			}
			cfg.MaxSessions = maxSessions
			// 100 logins of one user queue on its lock: under -race on a
			// loaded machine the last waits longer than the 2 s default.
			// The test is about the cap, not about deadlines.
			cfg.DBTimeout = time.Minute
			b, cleanup, err := jwtauth.OpenBackend(ctx, cfg)
			require.NoError(t, err)
			t.Cleanup(cleanup)
			svc, err := jwtauth.NewService[struct{}](cfg, b, nil)
			require.NoError(t, err)

			var wg sync.WaitGroup
			errs := make(chan error, logins)
			for i := range logins {
				wg.Go(func() {
					client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: fmt.Sprintf("device-%03d", i)}
					_, err := svc.Login(ctx, "alice", struct{}{}, client)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			sessions, err := svc.Sessions(ctx, "alice")
			require.NoError(t, err)
			assert.Len(t, sessions, maxSessions, "the cap holds, and is filled")

			// One more login, sequential: still the cap, the least
			// recently seen one went.
			oldest := sessions[0]
			for _, s := range sessions {
				if c := s.LastSeenAt.Compare(oldest.LastSeenAt); c < 0 || (c == 0 && s.ID < oldest.ID) {
					oldest = s
				}
			}
			client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "late"}
			pair, err := svc.Login(ctx, "alice", struct{}{}, client)
			require.NoError(t, err)
			_, err = svc.Authenticate(ctx, pair.AccessToken, client)
			require.NoError(t, err)
			sessions, err = svc.Sessions(ctx, "alice")
			require.NoError(t, err)
			assert.Len(t, sessions, maxSessions)
			for _, s := range sessions {
				assert.NotEqual(t, oldest.ID, s.ID, "the least recently seen session was revoked")
			}
		})
	}
}
