package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeviceLimit: JWTAUTH_DEVICE_LIMIT=2 with each JWTAUTH_DEVICE_POLICY.
func TestDeviceLimit(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"evict_oldest", "reject", "revoke_all"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			eachBackend(t, func(t *testing.T, env map[string]string) {
				s := start(t, merge(env, map[string]string{
					"JWTAUTH_DEVICE_LIMIT":  "2",
					"JWTAUTH_DEVICE_POLICY": policy,
				}))
				d1 := s.client(t, clientOpts{Device: "d1"})
				d2 := s.client(t, clientOpts{Device: "d2"})
				d3 := s.client(t, clientOpts{Device: "d3"})
				a := d1.login(t, "alice", "alice-password")
				b := d2.login(t, "alice", "alice-password")
				// A device that has a session replaces it: no second slot.
				b = d2.login(t, "alice", "alice-password")
				require.Len(t, d1.sessions(t, a.AccessToken), 2)

				r := d3.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": "alice-password"})
				switch policy {
				case "evict_oldest":
					require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
					c := d3.login(t, "alice", "alice-password") // replaces d3's own session
					wantError(t, d1.me(t, a.AccessToken), http.StatusUnauthorized, "token_revoked")
					wantError(t, d1.refresh(t, a.RefreshToken), http.StatusUnauthorized, "token_revoked")
					wantMe(t, d2.me(t, b.AccessToken), "alice")
					wantMe(t, d3.me(t, c.AccessToken), "alice")
					assert.Len(t, d3.sessions(t, c.AccessToken), 2)
				case "reject":
					wantError(t, r, http.StatusForbidden, "device_limit_reached")
					wantMe(t, d1.me(t, a.AccessToken), "alice")
					wantMe(t, d2.me(t, b.AccessToken), "alice")
					a = d1.login(t, "alice", "alice-password") // a known device may log in again
					require.Equal(t, http.StatusNoContent, d1.do(t, http.MethodPost, "/auth/logout", a.AccessToken, nil).Status)
					c := d3.login(t, "alice", "alice-password") // a freed slot is usable
					wantMe(t, d3.me(t, c.AccessToken), "alice")
				case "revoke_all":
					require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
					c := r.Object(t)["access_token"].(string)
					wantError(t, d1.me(t, a.AccessToken), http.StatusUnauthorized, "token_revoked")
					wantError(t, d2.me(t, b.AccessToken), http.StatusUnauthorized, "token_revoked")
					wantError(t, d2.refresh(t, b.RefreshToken), http.StatusUnauthorized, "token_revoked")
					wantMe(t, d3.me(t, c), "alice")
					assert.Len(t, d3.sessions(t, c), 1)
				}
			})
		})
	}
}

// TestRefreshRotation: with rotation every refresh issues a new refresh
// token; presenting an old one after the grace interval is reuse, which
// revokes the session.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{
			"JWTAUTH_ROTATE_REFRESH":      "true",
			"JWTAUTH_REFRESH_REUSE_GRACE": "0s",
		}))
		c := s.client(t, clientOpts{Device: "d1"})
		lr := c.login(t, "alice", "alice-password")

		r := c.refresh(t, lr.RefreshToken)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		m := r.Object(t)
		assert.Equal(t, "Bearer", m["token_type"])
		second, _ := m["refresh_token"].(string)
		require.NotEmpty(t, second, "rotation returns a new refresh token")
		assert.NotEqual(t, lr.RefreshToken, second)
		assert.Contains(t, m, "refresh_expires_in")
		access := m["access_token"].(string)
		wantMe(t, c.me(t, access), "alice")

		r = c.refresh(t, second)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		third := r.Object(t)["refresh_token"].(string)

		// Replaying the first (or second) refresh token is reuse.
		wantError(t, c.refresh(t, lr.RefreshToken), http.StatusUnauthorized, "refresh_reused")
		// The session is gone: every token of it is refused.
		wantError(t, c.refresh(t, third), http.StatusUnauthorized, "token_revoked")
		wantError(t, c.me(t, access), http.StatusUnauthorized, "token_revoked")
		wantError(t, c.me(t, lr.AccessToken), http.StatusUnauthorized, "token_revoked")
		// A new login starts a new session.
		wantMe(t, c.me(t, c.login(t, "alice", "alice-password").AccessToken), "alice")
	})
}

// TestRefreshRotationGrace: within the grace interval, the previous refresh
// token still works (two tabs refreshing at once); after it, it is reuse.
func TestRefreshRotationGrace(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{
			"JWTAUTH_ROTATE_REFRESH":      "true",
			"JWTAUTH_REFRESH_REUSE_GRACE": "1500ms",
		}))
		c := s.client(t, clientOpts{Device: "d1"})
		lr := c.login(t, "alice", "alice-password")
		r := c.refresh(t, lr.RefreshToken)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = c.refresh(t, lr.RefreshToken)
		require.Equal(t, http.StatusOK, r.Status, "the other tab, within the grace: %s", r.Body)

		time.Sleep(1600 * time.Millisecond)
		wantError(t, c.refresh(t, lr.RefreshToken), http.StatusUnauthorized, "refresh_reused")
	})
}
