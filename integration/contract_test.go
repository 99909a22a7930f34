package integration

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const twoUsers = "alice:alice-password,bob:bob-password"

// TestContract drives every route of the reference server's HTTP contract
// with the default configuration.
func TestContract(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{"JWTAUTH_DEMO_USERS": twoUsers}))
		phone := s.client(t, clientOpts{Device: "phone", UA: "Phone/1.0"})
		laptop := s.client(t, clientOpts{Device: "laptop", UA: "Laptop/2.0"})
		tablet := s.client(t, clientOpts{Device: "tablet", UA: "Tablet/3.0"})

		t.Run("healthz", func(t *testing.T) {
			r := phone.do(t, http.MethodGet, "/healthz", "", nil)
			require.Equal(t, http.StatusOK, r.Status)
			h := r.Object(t)
			assert.ElementsMatch(t, []string{"status", "store", "bus", "cache"}, slices.Collect(maps.Keys(h)))
			assert.Equal(t, "ok", h["status"])
			assert.Equal(t, "ok", h["store"])
			if env["JWTAUTH_DATABASE_URL"] == "" {
				assert.Equal(t, map[string]any{"status": "ok", "store": "ok", "bus": "none", "cache": "on"}, h)
			} else { // the bus may not have proved itself yet
				assert.Contains(t, []any{"ok", "down"}, h["bus"])
				assert.Contains(t, []any{"on", "bypassed"}, h["cache"])
			}
		})

		t.Run("login", func(t *testing.T) {
			lr := phone.login(t, "alice", "alice-password")
			assert.Equal(t, 600, lr.ExpiresIn)
			assert.Equal(t, 720*3600, lr.RefreshExpiresIn)
			assert.Equal(t, 5, strings.Count(lr.AccessToken, ".")+1, "a JWE compact token")

			for _, body := range []string{"", "{", `[]`, `{"username":"alice"}`, `{"username":"alice","password":1}`, `{"password":"x"}`} {
				wantError(t, phone.do(t, http.MethodPost, "/auth/login", "", body), http.StatusBadRequest, "invalid_request")
			}
			for _, creds := range [][2]string{{"alice", "wrong"}, {"mallory", "alice-password"}, {"bob", "alice-password"}} {
				r := phone.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": creds[0], "password": creds[1]})
				wantError(t, r, http.StatusUnauthorized, "invalid_credentials")
				assert.Contains(t, r.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token", error_description="`)
			}
		})

		t.Run("me", func(t *testing.T) {
			lr := phone.login(t, "alice", "alice-password")
			r := phone.me(t, lr.AccessToken)
			wantMe(t, r, "alice")
			assert.Regexp(t, `^user-[0-9a-f]{16}$`, r.Object(t)["id"])

			r = phone.me(t, "")
			wantError(t, r, http.StatusUnauthorized, "invalid_token")
			assert.Equal(t, `Bearer realm="jwtauth", error="invalid_token", error_description="missing bearer token"`, r.Header.Get("WWW-Authenticate"))
			wantError(t, phone.me(t, "garbage"), http.StatusUnauthorized, "invalid_token")
			flipped := []byte(lr.AccessToken)
			flipped[len(flipped)/2] ^= 0x01
			wantError(t, phone.me(t, string(flipped)), http.StatusUnauthorized, "invalid_token")
		})

		t.Run("wrong token type both ways", func(t *testing.T) {
			lr := phone.login(t, "alice", "alice-password")
			wantError(t, phone.me(t, lr.RefreshToken), http.StatusUnauthorized, "wrong_token_type")
			wantError(t, phone.refresh(t, lr.AccessToken), http.StatusUnauthorized, "wrong_token_type")
		})

		t.Run("refresh", func(t *testing.T) {
			lr := phone.login(t, "alice", "alice-password")
			r := phone.refresh(t, lr.RefreshToken)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			m := r.Object(t)
			assert.ElementsMatch(t, []string{"access_token", "token_type", "expires_in"}, slices.Collect(maps.Keys(m)),
				"no refresh_token without rotation")
			assert.Equal(t, "Bearer", m["token_type"])
			assert.EqualValues(t, 600, m["expires_in"])
			wantMe(t, phone.me(t, m["access_token"].(string)), "alice")
			wantMe(t, phone.me(t, lr.AccessToken), "alice") // the old access token lives on

			again := phone.refresh(t, lr.RefreshToken)
			assert.Equal(t, http.StatusOK, again.Status, "without rotation the refresh token is reusable")

			wantError(t, phone.do(t, http.MethodPost, "/auth/refresh", "", `{}`), http.StatusBadRequest, "invalid_request")
			wantError(t, phone.do(t, http.MethodPost, "/auth/refresh", "", `nope`), http.StatusBadRequest, "invalid_request")
			wantError(t, phone.refresh(t, "garbage"), http.StatusUnauthorized, "invalid_token")
		})

		t.Run("verify", func(t *testing.T) {
			lr := phone.login(t, "alice", "alice-password")
			for token, typ := range map[string]string{lr.AccessToken: "access", lr.RefreshToken: "refresh"} {
				r := phone.do(t, http.MethodPost, "/auth/verify", "", map[string]string{"token": token})
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
				assert.Equal(t, map[string]any{"valid": true, "token_type": typ}, r.Object(t))
			}
			r := phone.do(t, http.MethodPost, "/auth/verify", "", map[string]string{"token": "garbage"})
			require.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, map[string]any{"valid": false, "error": "invalid_token"}, r.Object(t))
			r = laptop.do(t, http.MethodPost, "/auth/verify", "", map[string]string{"token": lr.AccessToken})
			assert.Equal(t, map[string]any{"valid": false, "error": "client_mismatch"}, r.Object(t))
			wantError(t, phone.do(t, http.MethodPost, "/auth/verify", "", `{}`), http.StatusBadRequest, "invalid_request")

			require.Equal(t, http.StatusNoContent, phone.do(t, http.MethodPost, "/auth/logout", lr.AccessToken, nil).Status)
			r = phone.do(t, http.MethodPost, "/auth/verify", "", map[string]string{"token": lr.AccessToken})
			assert.Equal(t, map[string]any{"valid": false, "error": "token_revoked"}, r.Object(t))
		})

		t.Run("sessions", func(t *testing.T) {
			a := phone.login(t, "bob", "bob-password")
			b := laptop.login(t, "bob", "bob-password")
			list := phone.sessions(t, a.AccessToken)
			require.Len(t, list, 2)
			byID := map[string]map[string]any{}
			for _, s := range list {
				assert.ElementsMatch(t, []string{"id", "device_name", "ip", "created_at", "last_seen_at", "current"}, slices.Collect(maps.Keys(s)))
				assert.Equal(t, "127.0.0.1", s["ip"])
				for _, k := range []string{"created_at", "last_seen_at"} {
					_, err := time.Parse(time.RFC3339, s[k].(string))
					assert.NoError(t, err, k)
				}
				byID[s["id"].(string)] = s
			}
			assert.Equal(t, true, byID[a.SessionID]["current"])
			assert.Equal(t, false, byID[b.SessionID]["current"])
			assert.Equal(t, "Phone/1.0", byID[a.SessionID]["device_name"])
			assert.Equal(t, "Laptop/2.0", byID[b.SessionID]["device_name"])

			// A re-login from the same device replaces its session.
			a2 := phone.login(t, "bob", "bob-password")
			assert.Len(t, phone.sessions(t, a2.AccessToken), 2)
			wantError(t, phone.me(t, a.AccessToken), http.StatusUnauthorized, "token_revoked")
		})

		t.Run("delete session", func(t *testing.T) {
			a := phone.login(t, "alice", "alice-password")
			b := laptop.login(t, "alice", "alice-password")
			bob := tablet.login(t, "bob", "bob-password")
			path := "/auth/sessions/"
			wantError(t, phone.do(t, http.MethodDelete, path+bob.SessionID, a.AccessToken, nil), http.StatusNotFound, "not_found")
			wantMe(t, tablet.me(t, bob.AccessToken), "bob")
			wantError(t, phone.do(t, http.MethodDelete, path+"no-such-session", a.AccessToken, nil), http.StatusNotFound, "not_found")
			wantError(t, phone.do(t, http.MethodDelete, path+b.SessionID, "", nil), http.StatusUnauthorized, "invalid_token")

			require.Equal(t, http.StatusNoContent, phone.do(t, http.MethodDelete, path+b.SessionID, a.AccessToken, nil).Status)
			wantError(t, laptop.me(t, b.AccessToken), http.StatusUnauthorized, "token_revoked")
			wantError(t, laptop.refresh(t, b.RefreshToken), http.StatusUnauthorized, "token_revoked")
			wantMe(t, phone.me(t, a.AccessToken), "alice")
			wantError(t, phone.do(t, http.MethodDelete, path+b.SessionID, a.AccessToken, nil), http.StatusNotFound, "not_found")
		})

		t.Run("logout this device", func(t *testing.T) {
			a := phone.login(t, "alice", "alice-password")
			b := laptop.login(t, "alice", "alice-password")
			require.Equal(t, http.StatusNoContent, phone.do(t, http.MethodPost, "/auth/logout", a.AccessToken, nil).Status)
			wantError(t, phone.me(t, a.AccessToken), http.StatusUnauthorized, "token_revoked")
			wantError(t, phone.refresh(t, a.RefreshToken), http.StatusUnauthorized, "token_revoked")
			wantError(t, phone.do(t, http.MethodPost, "/auth/logout", a.AccessToken, nil), http.StatusUnauthorized, "token_revoked")
			wantMe(t, laptop.me(t, b.AccessToken), "alice")
			wantError(t, phone.do(t, http.MethodPost, "/auth/logout", "", nil), http.StatusUnauthorized, "invalid_token")
		})

		t.Run("logout others", func(t *testing.T) {
			a := phone.login(t, "alice", "alice-password")
			b := laptop.login(t, "alice", "alice-password")
			c := tablet.login(t, "alice", "alice-password")
			bob := tablet.login(t, "bob", "bob-password")
			require.Equal(t, http.StatusNoContent, phone.do(t, http.MethodPost, "/auth/logout/others", a.AccessToken, nil).Status)
			wantMe(t, phone.me(t, a.AccessToken), "alice")
			wantError(t, laptop.me(t, b.AccessToken), http.StatusUnauthorized, "token_revoked")
			wantError(t, tablet.me(t, c.AccessToken), http.StatusUnauthorized, "token_revoked")
			wantMe(t, tablet.me(t, bob.AccessToken), "bob")
			list := phone.sessions(t, a.AccessToken)
			require.Len(t, list, 1)
			assert.Equal(t, a.SessionID, list[0]["id"])
			assert.Equal(t, true, list[0]["current"])
			assert.Equal(t, http.StatusOK, phone.refresh(t, a.RefreshToken).Status)
		})

		t.Run("logout all", func(t *testing.T) {
			a := phone.login(t, "alice", "alice-password")
			b := laptop.login(t, "alice", "alice-password")
			bob := tablet.login(t, "bob", "bob-password")
			require.Equal(t, http.StatusNoContent, phone.do(t, http.MethodPost, "/auth/logout/all", a.AccessToken, nil).Status)
			for _, tok := range []struct {
				c *client
				r loginResp
			}{{phone, a}, {laptop, b}} {
				wantError(t, tok.c.me(t, tok.r.AccessToken), http.StatusUnauthorized, "token_revoked")
				wantError(t, tok.c.refresh(t, tok.r.RefreshToken), http.StatusUnauthorized, "token_revoked")
			}
			wantMe(t, tablet.me(t, bob.AccessToken), "bob")
			// A new login works at once.
			wantMe(t, phone.me(t, phone.login(t, "alice", "alice-password").AccessToken), "alice")
		})

		t.Run("unknown routes and methods", func(t *testing.T) {
			// GET / is the account page (docs/browser.md); other paths are not.
			for _, path := range []string{"/nope", "/index.html", "/assets/", "/assets/nope.js", "/auth", "/auth/unknown", "/auth/me/", "/auth/browser", "/healthz/x"} {
				wantError(t, phone.do(t, http.MethodGet, path, "", nil), http.StatusNotFound, "not_found")
			}
			for _, mp := range [][2]string{{http.MethodGet, "/auth/login"}, {http.MethodDelete, "/auth/me"}, {http.MethodPost, "/healthz"}, {http.MethodPut, "/auth/refresh"}} {
				wantError(t, phone.do(t, mp[0], mp[1], "", nil), http.StatusMethodNotAllowed, "invalid_request")
			}
		})

		t.Run("huge bodies", func(t *testing.T) {
			// Over the 64 KiB limit, under what the server drains unread.
			big := `{"username":"alice","password":"` + strings.Repeat("a", 80<<10) + `"}`
			for _, path := range []string{"/auth/login", "/auth/refresh", "/auth/verify"} {
				wantError(t, phone.do(t, http.MethodPost, path, "", big), http.StatusRequestEntityTooLarge, "invalid_request")
				// Without Content-Length (chunked).
				wantError(t, phone.do(t, http.MethodPost, path, "", io.MultiReader(strings.NewReader(big))), http.StatusRequestEntityTooLarge, "invalid_request")
			}
		})
	})
}
