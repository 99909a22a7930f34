package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/pgtest"
	"github.com/jwtauth/jwtauth/jwtauthtest"
)

// startApp runs the application in-process on a fresh PostgreSQL database
// (skipped without PostgreSQL unless CI=true) with a seeded admin.
func startApp(t *testing.T) string {
	t.Helper()
	cfg := jwtauthtest.Config(t) // JWTAUTH_ENV=test, fresh keys
	cfg.DatabaseURL = pgtest.DSN(t)
	s, cleanup, err := newServer(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(cleanup)
	_, err = s.users.Create(t.Context(), "admin@example.com", "admin-password", "admin")
	require.NoError(t, err)

	srv := httptest.NewServer(s.routes())
	t.Cleanup(srv.Close)
	return srv.URL
}

type response struct {
	Status int
	Header http.Header
	Body   map[string]any // an object body
	List   []any          // an array body
}

// call sends a JSON request with an optional bearer token, from the
// test kit's device.
func call(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Device-ID", jwtauthtest.DeviceID)
	if token != "" {
		jwtauthtest.Authorize(req, token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := response{Status: res.StatusCode, Header: res.Header}
	if len(raw) > 0 {
		var v any
		require.NoError(t, json.Unmarshal(raw, &v), "body %q", raw)
		r.Body, _ = v.(map[string]any)
		r.List, _ = v.([]any)
	}
	return r
}

// tokens logs in and returns the access and refresh tokens.
func tokens(t *testing.T, base, email, password string) (access, refresh string) {
	t.Helper()
	lr := jwtauthtest.PostLogin(t, base+"/login", credentials{Email: email, Password: password})
	return lr.AccessToken, lr.RefreshToken
}

func TestRoleChange(t *testing.T) {
	base := startApp(t)
	admin, _ := tokens(t, base, "admin@example.com", "admin-password")

	// Bob signs up and logs in; his token carries role "user".
	r := call(t, http.MethodPost, base+"/signup", "", credentials{Email: "bob@example.com", Password: "bob-password"})
	require.Equal(t, http.StatusCreated, r.Status, "%v", r.Body)
	bobID := r.Body["id"].(string)
	assert.Equal(t, "user", r.Body["role"])
	r = call(t, http.MethodPost, base+"/signup", "", credentials{Email: "bob@example.com", Password: "other-password"})
	assert.Equal(t, http.StatusConflict, r.Status)

	access, refresh := tokens(t, base, "bob@example.com", "bob-password")
	r = call(t, http.MethodGet, base+"/profile", access, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, map[string]any{"id": bobID, "email": "bob@example.com", "role": "user"}, r.Body)

	roleURL := base + "/users/" + bobID + "/role"
	r = call(t, http.MethodPut, roleURL, access, map[string]string{"role": "admin"})
	assert.Equal(t, http.StatusForbidden, r.Status, "only admins change roles")

	// The admin promotes Bob: his old access token is revoked at once.
	r = call(t, http.MethodPut, roleURL, admin, map[string]string{"role": "admin"})
	require.Equal(t, http.StatusNoContent, r.Status, "%v", r.Body)
	r = call(t, http.MethodGet, base+"/profile", access, nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "token_revoked", r.Body["error"])
	assert.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	// Bob refreshes, as clients do on token_revoked: the new token carries
	// the new role, loaded from app_users.
	r = call(t, http.MethodPost, base+"/auth/refresh", "", map[string]string{"refresh_token": refresh})
	require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
	access = r.Body["access_token"].(string)
	r = call(t, http.MethodGet, base+"/profile", access, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "admin", r.Body["role"])

	// d_jwt_auth's story: the role changes from admin. Bob's admin token
	// dies with it, and the refreshed one no longer opens admin routes.
	r = call(t, http.MethodPut, roleURL, admin, map[string]string{"role": "user"})
	require.Equal(t, http.StatusNoContent, r.Status, "%v", r.Body)
	r = call(t, http.MethodPut, roleURL, access, map[string]string{"role": "admin"})
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "token_revoked", r.Body["error"])
	r = call(t, http.MethodPost, base+"/auth/refresh", "", map[string]string{"refresh_token": refresh})
	require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
	access = r.Body["access_token"].(string)
	r = call(t, http.MethodGet, base+"/profile", access, nil)
	assert.Equal(t, "user", r.Body["role"])
	r = call(t, http.MethodPut, roleURL, access, map[string]string{"role": "admin"})
	assert.Equal(t, http.StatusForbidden, r.Status)

	// Nobody was logged out: Bob still has his one session.
	r = call(t, http.MethodGet, base+"/auth/sessions", access, nil)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Len(t, r.List, 1)
}

func TestErrors(t *testing.T) {
	base := startApp(t)
	admin, _ := tokens(t, base, "admin@example.com", "admin-password")

	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		status int
		code   string
	}{
		{"wrong password", http.MethodPost, "/login", "", credentials{Email: "admin@example.com", Password: "nope"}, http.StatusUnauthorized, "invalid_credentials"},
		{"unknown email", http.MethodPost, "/login", "", credentials{Email: "eve@example.com", Password: "admin-password"}, http.StatusUnauthorized, "invalid_credentials"},
		{"short password", http.MethodPost, "/signup", "", credentials{Email: "eve@example.com", Password: "short"}, http.StatusBadRequest, "invalid_request"},
		{"no token", http.MethodGet, "/profile", "", nil, http.StatusUnauthorized, "invalid_token"},
		{"bad token", http.MethodGet, "/profile", "not-a-token", nil, http.StatusUnauthorized, "invalid_token"},
		{"unknown role", http.MethodPut, "/users/x/role", admin, map[string]string{"role": "root"}, http.StatusBadRequest, "invalid_request"},
		{"unknown user", http.MethodPut, "/users/nobody/role", admin, map[string]string{"role": "user"}, http.StatusNotFound, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.method, base+tt.path, tt.token, tt.body)
			assert.Equal(t, tt.status, r.Status, "%v", r.Body)
			assert.Equal(t, tt.code, r.Body["error"])
		})
	}
}
