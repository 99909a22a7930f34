package webtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
)

// Case is one behaviour the HTTP contract promises, checked against a
// fresh server.
type Case struct {
	Name string
	// Config tunes the service. Optional.
	Config func(*app.Config)
	// Trusted lists trusted proxies (JWTAUTH_TRUSTED_PROXIES syntax).
	// Optional. Default none.
	Trusted string
	// DPoP, when set, turns DPoP on with a Validator of this Config.
	// Optional. Default off.
	DPoP *dpop.Config
	// DPoPRequired makes proofs required (with DPoP set).
	DPoPRequired bool
	Run          func(t *testing.T, h *H)
}

var (
	local  = Client{}                   // 127.0.0.1
	other  = Client{From: "127.0.0.2"}  // another peer
	phoneA = Client{Device: "phone-a"}  // a device with an id
	phoneB = Client{Device: "phone-b"}  // another one
	laptop = Client{Device: "laptop-1"} // and a third
)

// Cases returns the shared behaviour cases.
func Cases() []Case {
	return []Case{
		{Name: "login returns the contract's token pair", Run: func(t *testing.T, h *H) {
			res := h.Post(t, LoginPath, "", LoginRequest{Username: "alice", Password: "pw-alice"}, local)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			body := res.Object(t)
			assert.ElementsMatch(t, []string{"access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in", "session_id"}, keys(body))
			assert.Equal(t, "Bearer", body["token_type"])
			assert.Equal(t, float64(600), body["expires_in"])
			assert.Equal(t, float64(720*3600), body["refresh_expires_in"])
			assert.NotEmpty(t, body["session_id"])
			assert.NotEqual(t, body["access_token"], body["refresh_token"])
		}},
		{Name: "wrong password is invalid_credentials", Run: func(t *testing.T, h *H) {
			res := h.Post(t, LoginPath, "", LoginRequest{Username: "alice", Password: "nope"}, local)
			WantError(t, res, http.StatusUnauthorized, "invalid_credentials")
		}},
		{Name: "protected route sees the principal", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", local)
			res := h.Me(t, lr.AccessToken, local)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			var me Me
			require.NoError(t, json.Unmarshal(res.Body, &me))
			assert.Equal(t, Me{UserID: "id-alice", SessionID: lr.SessionID, Name: "alice", InContext: true}, me)
		}},
		{Name: "missing credentials get the bare realm challenge", Run: func(t *testing.T, h *H) {
			res := h.Me(t, "", local)
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
			assert.Equal(t, `Bearer realm="jwtauth", error="invalid_token", error_description="missing bearer token"`, res.Header.Get("WWW-Authenticate"))
			res = h.Do(t, Req{Method: http.MethodGet, Path: MePath, Header: http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}})
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
			assert.Equal(t, `Bearer realm="jwtauth", error="invalid_token", error_description="missing bearer token"`, res.Header.Get("WWW-Authenticate"))
		}},
		{Name: "garbage and tampered tokens are invalid_token", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", local)
			tampered := []byte(lr.AccessToken)
			i := len(tampered) / 2
			tampered[i] = map[bool]byte{true: 'B', false: 'A'}[tampered[i] == 'A']
			for _, auth := range []string{
				"Bearer garbage",
				"Bearer " + string(tampered),
				"Bearer " + lr.AccessToken + " extra",
				"Bearer  " + lr.AccessToken,
				"Bearer ",
				"Bearer " + strings.Repeat("a", 17<<10),
				"Bearer a.b.c.d.e",
			} {
				res := h.Do(t, Req{Method: http.MethodGet, Path: MePath, Header: http.Header{"Authorization": {auth}}})
				WantError(t, res, http.StatusUnauthorized, "invalid_token")
				assert.Equal(t, `Bearer error="invalid_token", error_description="the token is invalid"`, res.Header.Get("WWW-Authenticate"))
			}
			res := h.Do(t, Req{Method: http.MethodGet, Path: MePath, Header: http.Header{"Authorization": {"bEaReR " + lr.AccessToken}}})
			assert.Equal(t, http.StatusOK, res.Status, "scheme is case-insensitive: %s", res.Body)
		}},
		{
			Name: "expired access token is token_expired",
			// The service clock runs an hour behind the codec's: the
			// access token's exp is 50 minutes in the (codec's) past.
			Config: func(c *app.Config) { c.Now = func() time.Time { return time.Now().Add(-time.Hour) } },
			Run: func(t *testing.T, h *H) {
				lr := h.LoginAs(t, "alice", local)
				res := h.Me(t, lr.AccessToken, local)
				WantError(t, res, http.StatusUnauthorized, "token_expired")
				assert.Contains(t, res.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
			},
		},
		{Name: "refresh token as access and access on refresh are wrong_token_type", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", local)
			WantError(t, h.Me(t, lr.RefreshToken, local), http.StatusUnauthorized, "wrong_token_type")
			res := h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": lr.AccessToken}, local)
			WantError(t, res, http.StatusUnauthorized, "wrong_token_type")
			res = h.Post(t, "/auth/logout", lr.RefreshToken, nil, local)
			WantError(t, res, http.StatusUnauthorized, "wrong_token_type")
		}},
		{Name: "another peer IP is client_mismatch", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", local)
			WantError(t, h.Me(t, lr.AccessToken, other), http.StatusUnauthorized, "client_mismatch")
			assert.Equal(t, http.StatusOK, h.Me(t, lr.AccessToken, local).Status)
			// Refresh tokens are bound to the device only; the new access
			// token is bound to the new address.
			res := h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": lr.RefreshToken}, other)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			access, _ := res.Object(t)["access_token"].(string)
			assert.Equal(t, http.StatusOK, h.Me(t, access, other).Status)
			WantError(t, h.Me(t, access, local), http.StatusUnauthorized, "client_mismatch")
		}},
		{Name: "X-Forwarded-For from an untrusted peer is ignored", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", Client{XFF: "203.0.113.9"})
			assert.Equal(t, "127.0.0.1", sessionIP(t, h, lr.AccessToken, local, lr.SessionID))
			// A spoofed header cannot move the request onto the bound IP...
			WantError(t, h.Me(t, lr.AccessToken, Client{From: "127.0.0.2", XFF: "127.0.0.1"}), http.StatusUnauthorized, "client_mismatch")
			// ...nor away from it.
			assert.Equal(t, http.StatusOK, h.Me(t, lr.AccessToken, Client{XFF: "198.51.100.7"}).Status)
		}},
		{Name: "X-Forwarded-For from a trusted proxy is honoured", Trusted: "127.0.0.0/8", Run: func(t *testing.T, h *H) {
			viaProxy := Client{XFF: "203.0.113.9"}
			lr := h.LoginAs(t, "alice", viaProxy)
			assert.Equal(t, "203.0.113.9", sessionIP(t, h, lr.AccessToken, viaProxy, lr.SessionID))
			for _, c := range []struct {
				name   string
				client Client
				ok     bool
			}{
				{"same client via the proxy", viaProxy, true},
				{"same client via another proxy", Client{From: "127.0.0.2", XFF: "203.0.113.9"}, true},
				{"same client behind two proxies", Client{XFF: "203.0.113.9, 127.0.0.5"}, true},
				{"attacker-written left part ignored", Client{XFF: "198.51.100.7, 203.0.113.9"}, true},
				{"another client", Client{XFF: "198.51.100.7"}, false},
				{"spoof left of the real client", Client{XFF: "203.0.113.9, 198.51.100.7"}, false},
				{"unparsable entry stops the walk", Client{XFF: "203.0.113.9, garbage"}, false},
				{"no header: the proxy itself", local, false},
			} {
				res := h.Me(t, lr.AccessToken, c.client)
				if c.ok {
					assert.Equal(t, http.StatusOK, res.Status, "%s: %s", c.name, res.Body)
				} else {
					WantError(t, res, http.StatusUnauthorized, "client_mismatch")
				}
			}
		}},
		{Name: "another device is client_mismatch", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", phoneA)
			WantError(t, h.Me(t, lr.AccessToken, phoneB), http.StatusUnauthorized, "client_mismatch")
			WantError(t, h.Me(t, lr.AccessToken, local), http.StatusUnauthorized, "client_mismatch")
			assert.Equal(t, http.StatusOK, h.Me(t, lr.AccessToken, phoneA).Status)
			res := h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": lr.RefreshToken}, phoneB)
			WantError(t, res, http.StatusUnauthorized, "client_mismatch")
			// Without a device header the device is the User-Agent.
			lr = h.LoginAs(t, "bob", Client{UA: "Browser/1"})
			assert.Equal(t, http.StatusOK, h.Me(t, lr.AccessToken, Client{UA: "Browser/1"}).Status)
			WantError(t, h.Me(t, lr.AccessToken, Client{UA: "Browser/2"}), http.StatusUnauthorized, "client_mismatch")
		}},
		{Name: "logout revokes this session only", Run: func(t *testing.T, h *H) {
			a := h.LoginAs(t, "alice", phoneA)
			b := h.LoginAs(t, "alice", phoneB)
			res := h.Post(t, "/auth/logout", a.AccessToken, nil, phoneA)
			require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			WantError(t, h.Me(t, a.AccessToken, phoneA), http.StatusUnauthorized, "token_revoked")
			WantError(t, h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": a.RefreshToken}, phoneA), http.StatusUnauthorized, "token_revoked")
			WantError(t, h.Post(t, "/auth/logout", a.AccessToken, nil, phoneA), http.StatusUnauthorized, "token_revoked")
			assert.Equal(t, http.StatusOK, h.Me(t, b.AccessToken, phoneB).Status)
		}},
		{Name: "logout/all revokes every session", Run: func(t *testing.T, h *H) {
			a := h.LoginAs(t, "alice", phoneA)
			b := h.LoginAs(t, "alice", phoneB)
			bob := h.LoginAs(t, "bob", phoneA)
			res := h.Post(t, "/auth/logout/all", a.AccessToken, nil, phoneA)
			require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			WantError(t, h.Me(t, a.AccessToken, phoneA), http.StatusUnauthorized, "token_revoked")
			WantError(t, h.Me(t, b.AccessToken, phoneB), http.StatusUnauthorized, "token_revoked")
			WantError(t, h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": b.RefreshToken}, phoneB), http.StatusUnauthorized, "token_revoked")
			assert.Equal(t, http.StatusOK, h.Me(t, bob.AccessToken, phoneA).Status, "another user is untouched")
		}},
		{Name: "logout/others keeps the current session", Run: func(t *testing.T, h *H) {
			a := h.LoginAs(t, "alice", phoneA)
			b := h.LoginAs(t, "alice", phoneB)
			c := h.LoginAs(t, "alice", laptop)
			res := h.Post(t, "/auth/logout/others", a.AccessToken, nil, phoneA)
			require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			assert.Equal(t, http.StatusOK, h.Me(t, a.AccessToken, phoneA).Status)
			WantError(t, h.Me(t, b.AccessToken, phoneB), http.StatusUnauthorized, "token_revoked")
			WantError(t, h.Me(t, c.AccessToken, laptop), http.StatusUnauthorized, "token_revoked")
			sessions := listSessions(t, h, a.AccessToken, phoneA)
			require.Len(t, sessions, 1)
			assert.Equal(t, a.SessionID, sessions[0]["id"])
		}},
		{Name: "sessions lists devices and marks the current one", Run: func(t *testing.T, h *H) {
			a := h.LoginAs(t, "alice", Client{Device: "phone-a", UA: "Phone/1"})
			b := h.LoginAs(t, "alice", Client{Device: "laptop-1", UA: "Laptop/2"})
			h.LoginAs(t, "bob", phoneA)
			sessions := listSessions(t, h, a.AccessToken, phoneA)
			require.Len(t, sessions, 2)
			byID := map[string]map[string]any{}
			for _, s := range sessions {
				assert.ElementsMatch(t, []string{"id", "device_name", "ip", "created_at", "last_seen_at", "current"}, keys(s))
				for _, k := range []string{"created_at", "last_seen_at"} {
					_, err := time.Parse(time.RFC3339, s[k].(string))
					assert.NoError(t, err, k)
				}
				assert.Equal(t, "127.0.0.1", s["ip"])
				byID[s["id"].(string)] = s
			}
			require.Contains(t, byID, a.SessionID)
			require.Contains(t, byID, b.SessionID)
			assert.Equal(t, true, byID[a.SessionID]["current"])
			assert.Equal(t, false, byID[b.SessionID]["current"])
			assert.Equal(t, "Phone/1", byID[a.SessionID]["device_name"])
			assert.Equal(t, "Laptop/2", byID[b.SessionID]["device_name"])
			fromB := listSessions(t, h, b.AccessToken, laptop)
			for _, s := range fromB {
				assert.Equal(t, s["id"] == b.SessionID, s["current"])
			}
		}},
		{Name: "deleting one of my sessions revokes it", Run: func(t *testing.T, h *H) {
			a := h.LoginAs(t, "alice", phoneA)
			b := h.LoginAs(t, "alice", phoneB)
			res := h.Do(t, Req{Client: phoneA, Method: http.MethodDelete, Path: "/auth/sessions/" + b.SessionID, Token: a.AccessToken})
			require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			WantError(t, h.Me(t, b.AccessToken, phoneB), http.StatusUnauthorized, "token_revoked")
			assert.Len(t, listSessions(t, h, a.AccessToken, phoneA), 1)
			res = h.Do(t, Req{Client: phoneA, Method: http.MethodDelete, Path: "/auth/sessions/" + b.SessionID, Token: a.AccessToken})
			WantError(t, res, http.StatusNotFound, "not_found")
		}},
		{Name: "deleting another user's or an unknown session is not_found", Run: func(t *testing.T, h *H) {
			alice := h.LoginAs(t, "alice", phoneA)
			bob := h.LoginAs(t, "bob", phoneB)
			for _, id := range []string{bob.SessionID, "no-such-session", strings.Repeat("x", 300)} {
				res := h.Do(t, Req{Client: phoneA, Method: http.MethodDelete, Path: "/auth/sessions/" + id, Token: alice.AccessToken})
				WantError(t, res, http.StatusNotFound, "not_found")
			}
			assert.Equal(t, http.StatusOK, h.Me(t, bob.AccessToken, phoneB).Status)
			res := h.Do(t, Req{Client: phoneB, Method: http.MethodDelete, Path: "/auth/sessions/" + alice.SessionID})
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
		}},
		{Name: "verify reports valid and invalid tokens", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", phoneA)
			res := h.Post(t, "/auth/verify", "", map[string]string{"token": lr.AccessToken}, phoneA)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.Equal(t, map[string]any{"valid": true, "token_type": "access"}, res.Object(t))
			res = h.Post(t, "/auth/verify", "", map[string]string{"token": lr.RefreshToken}, phoneA)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.Equal(t, map[string]any{"valid": true, "token_type": "refresh"}, res.Object(t))

			for _, c := range []struct {
				token  string
				client Client
				code   string
			}{
				{"garbage", phoneA, "invalid_token"},
				{lr.AccessToken, phoneB, "client_mismatch"},
				{lr.AccessToken, Client{From: "127.0.0.2", Device: "phone-a"}, "client_mismatch"},
			} {
				res := h.Post(t, "/auth/verify", "", map[string]string{"token": c.token}, c.client)
				require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
				assert.Equal(t, map[string]any{"valid": false, "error": c.code}, res.Object(t))
			}
			require.Equal(t, http.StatusNoContent, h.Post(t, "/auth/logout", lr.AccessToken, nil, phoneA).Status)
			res = h.Post(t, "/auth/verify", "", map[string]string{"token": lr.AccessToken}, phoneA)
			require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
			assert.Equal(t, map[string]any{"valid": false, "error": "token_revoked"}, res.Object(t))
			WantError(t, h.Post(t, "/auth/verify", "", map[string]string{}, phoneA), http.StatusBadRequest, "invalid_request")
		}},
		{Name: "refresh without rotation returns an access token only", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", phoneA)
			for range 2 { // the refresh token stays valid
				res := h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": lr.RefreshToken}, phoneA)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
				body := res.Object(t)
				assert.ElementsMatch(t, []string{"access_token", "token_type", "expires_in"}, keys(body))
				assert.Equal(t, "Bearer", body["token_type"])
				assert.Equal(t, float64(600), body["expires_in"])
				assert.Equal(t, http.StatusOK, h.Me(t, body["access_token"].(string), phoneA).Status)
			}
		}},
		{
			Name:   "refresh with rotation, then reuse is refresh_reused",
			Config: func(c *app.Config) { c.RotateRefresh = true; c.ReuseGrace = -1 },
			Run: func(t *testing.T, h *H) {
				lr := h.LoginAs(t, "alice", phoneA)
				res := h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": lr.RefreshToken}, phoneA)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
				body := res.Object(t)
				assert.ElementsMatch(t, []string{"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}, keys(body))
				next := body["refresh_token"].(string)
				assert.NotEqual(t, lr.RefreshToken, next)
				assert.Greater(t, body["refresh_expires_in"], float64(0))

				res = h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": lr.RefreshToken}, phoneA)
				WantError(t, res, http.StatusUnauthorized, "refresh_reused")
				// The reuse revoked the session: the thief's and the
				// owner's tokens are all dead.
				WantError(t, h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": next}, phoneA), http.StatusUnauthorized, "token_revoked")
				WantError(t, h.Me(t, body["access_token"].(string), phoneA), http.StatusUnauthorized, "token_revoked")
			},
		},
		{Name: "bad request bodies are invalid_request", Run: func(t *testing.T, h *H) {
			// Structurally bad on every route; FIELD is the route's field.
			bad := []string{
				"",
				"   ",
				"{",
				"[]",
				`"FIELD"`,
				"null",
				`{"FIELD":1}`,
				`{"FIELD":["a"]}`,
				`{"FIELD":{}}`,
				`{"FIELD":"a"} {}`,
				`{"FIELD":"a"}x`,
				"{\"FIELD\":\"\xff\xfe\"}",
				`{"FIELD":"a","FIELD":"b"}`,
				`{"FIELD":"a","Field":"b"}`,
				strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100),
			}
			// Missing token: bad on the token routes (on login it is a
			// wrong credential instead).
			missing := []string{`{}`, `{"FIELD":""}`, `{"FIELD":null}`, `{"other":"x"}`}
			for path, field := range map[string]string{"/auth/refresh": "refresh_token", "/auth/verify": "token", LoginPath: "username"} {
				cases := bad
				if path != LoginPath {
					cases = append(slices.Clone(bad), missing...)
				}
				for _, body := range cases {
					body = strings.ReplaceAll(body, "FIELD", field)
					body = strings.ReplaceAll(body, "Field", strings.ToUpper(field[:1])+field[1:])
					res := h.Do(t, Req{Method: http.MethodPost, Path: path, Body: body})
					WantError(t, res, http.StatusBadRequest, "invalid_request")
				}
			}
		}},
		{Name: "member names duplicated by Unicode folding are 400 invalid_request", Run: func(t *testing.T, h *H) {
			// encoding/json folds ſ (U+017F) to s and K (U+212A) to k: the
			// second member would silently win.
			for path, body := range map[string]string{
				LoginPath:       `{"username":"alice","uſername":"bob","password":"x"}`,
				"/auth/refresh": `{"refresh_token":"a","refreſh_token":"b"}`,
				"/auth/verify":  `{"token":"a","to\u212Aen":"b"}`,
			} {
				res := h.Do(t, Req{Method: http.MethodPost, Path: path, Body: body})
				WantError(t, res, http.StatusBadRequest, "invalid_request")
			}
		}},
		{Name: "a body that is not application/json is 415 unsupported_media_type", Run: func(t *testing.T, h *H) {
			// text/plain, form and multipart posts need no CORS preflight:
			// refusing them keeps other web pages from posting here.
			for _, ct := range []string{"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
				for path, body := range map[string]string{
					LoginPath:       `{"username":"alice","password":"x"}`,
					"/auth/refresh": `{"refresh_token":"a"}`,
					"/auth/verify":  `{"token":"a"}`,
				} {
					hdr := http.Header{"Content-Type": {ct}}
					if ct == "" {
						hdr = http.Header{"Content-Type": nil}
					}
					res := h.Do(t, Req{Method: http.MethodPost, Path: path, Body: body, Header: hdr})
					WantError(t, res, http.StatusUnsupportedMediaType, "unsupported_media_type")
				}
			}
		}},
		{Name: "a body over 64 KiB is 413 invalid_request", Run: func(t *testing.T, h *H) {
			body := `{"refresh_token":"` + strings.Repeat("a", 128<<10) + `"}`
			for _, path := range []string{"/auth/refresh", "/auth/verify", LoginPath} {
				res := h.Do(t, Req{Method: http.MethodPost, Path: path, Body: body})
				WantError(t, res, http.StatusRequestEntityTooLarge, "invalid_request")
			}
		}},
		{
			Name:   "device limit with reject is 403 device_limit_reached",
			Config: func(c *app.Config) { c.DevicePolicy = domain.DevicePolicy{Limit: 1, OnLimit: domain.Reject} },
			Run: func(t *testing.T, h *H) {
				h.LoginAs(t, "alice", phoneA)
				res := h.Post(t, LoginPath, "", LoginRequest{Username: "alice", Password: "pw-alice"}, phoneB)
				WantError(t, res, http.StatusForbidden, "device_limit_reached")
				h.LoginAs(t, "alice", phoneA) // the same device replaces its session
			},
		},
		{Name: "store down is 503 unavailable, never valid", Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", phoneA)
			// Nothing is cached yet: the first use needs the store.
			h.SetStoreDown(true)
			WantError(t, h.Me(t, lr.AccessToken, phoneA), http.StatusServiceUnavailable, "unavailable")
			WantError(t, h.Post(t, "/auth/refresh", "", map[string]string{"refresh_token": lr.RefreshToken}, phoneA), http.StatusServiceUnavailable, "unavailable")
			WantError(t, h.Post(t, "/auth/verify", "", map[string]string{"token": lr.AccessToken}, phoneA), http.StatusServiceUnavailable, "unavailable")
			WantError(t, h.Post(t, "/auth/verify", "", map[string]string{"token": lr.RefreshToken}, phoneA), http.StatusServiceUnavailable, "unavailable")
			WantError(t, h.Post(t, LoginPath, "", LoginRequest{Username: "alice", Password: "pw-alice"}, phoneA), http.StatusServiceUnavailable, "unavailable")
			WantError(t, h.Post(t, "/auth/logout", lr.AccessToken, nil, phoneA), http.StatusServiceUnavailable, "unavailable")
			h.SetStoreDown(false)
			assert.Equal(t, http.StatusOK, h.Me(t, lr.AccessToken, phoneA).Status)
		}},
	}
}

// keys returns m's keys, sorted.
func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// listSessions GETs /auth/sessions and requires a 200.
func listSessions(t *testing.T, h *H, token string, c Client) []map[string]any {
	t.Helper()
	res := h.Do(t, Req{Client: c, Method: http.MethodGet, Path: "/auth/sessions", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var out []map[string]any
	require.NoError(t, json.Unmarshal(res.Body, &out))
	return out
}

// sessionIP returns the bound IP of session id as GET /auth/sessions shows
// it.
func sessionIP(t *testing.T, h *H, token string, c Client, id string) string {
	t.Helper()
	for _, s := range listSessions(t, h, token, c) {
		if s["id"] == id {
			ip, _ := s["ip"].(string)
			return ip
		}
	}
	t.Fatalf("session %s not listed", id)
	return ""
}
