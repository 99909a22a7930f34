package jwtauth_test

import (
	"context"
	"errors"
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

// TestConcurrentRotatingRefreshesOnRealStores: 50 concurrent refreshes of
// one refresh token, with rotation, on PostgreSQL and SQLite. With the
// grace interval all succeed and the counter moves once; without it one
// succeeds, the others are reuse, and the session ends. No other error.
func TestConcurrentRotatingRefreshesOnRealStores(t *testing.T) {
	for _, db := range []string{"postgres", "sqlite"} {
		for _, grace := range []time.Duration{10 * time.Second, 0} {
			t.Run(db+"/grace="+grace.String(), func(t *testing.T) {
				ctx := context.Background()
				cfg := testConfig(t)
				if db == "postgres" {
					cfg.DatabaseURL = pgtest.DSN(t)
				}
				cfg.RotateRefresh = true
				cfg.RefreshReuseGrace = grace
				b, cleanup, err := jwtauth.OpenBackend(ctx, cfg)
				require.NoError(t, err)
				t.Cleanup(cleanup)
				svc, err := jwtauth.NewService[struct{}](cfg, b, nil)
				require.NoError(t, err)
				client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "laptop"}
				pair, err := svc.Login(ctx, "alice", struct{}{}, client)
				require.NoError(t, err)

				var (
					wg         sync.WaitGroup
					mu         sync.Mutex
					ok, reused int
					refreshed  []string
				)
				for range 50 {
					wg.Go(func() {
						p, err := svc.Refresh(ctx, pair.RefreshToken, client)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							ok++
							refreshed = append(refreshed, p.RefreshToken)
						case errors.Is(err, domain.ErrRefreshReused), errors.Is(err, domain.ErrRevoked):
							reused++
						default:
							t.Errorf("untyped or unexpected error: %v", err)
						}
					})
				}
				wg.Wait()
				sessions, err := svc.Sessions(ctx, "alice")
				require.NoError(t, err)
				if grace > 0 {
					assert.Equal(t, 50, ok)
					require.Len(t, sessions, 1)
					assert.Equal(t, uint64(1), sessions[0].RefreshCounter, "rotated exactly once")
					_, err = svc.Refresh(ctx, refreshed[0], client)
					require.NoError(t, err, "the new refresh tokens carry the current counter")
					return
				}
				assert.Equal(t, 1, ok, "one refresh wins")
				assert.Equal(t, 49, reused)
				assert.Empty(t, sessions, "reuse ended the session")
			})
		}
	}
}
