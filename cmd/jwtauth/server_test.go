package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/throttle"
)

func TestServerLoginAndMe(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"JWTAUTH_DEMO_USERS": "alice:alice-password,bob:hunter2"})

	body := login(t, s.URL, "alice", "alice-password")
	assert.Equal(t, "Bearer", body["token_type"])
	assert.EqualValues(t, 600, body["expires_in"])
	assert.NotEmpty(t, body["refresh_token"])
	assert.NotEmpty(t, body["session_id"])
	access := body["access_token"].(string)

	r := do(t, http.MethodGet, s.URL+"/auth/me", access, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, map[string]any{"id": demoUserID("alice"), "username": "alice"}, r.JSON(t))

	r = do(t, http.MethodGet, s.URL+"/auth/me", "", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "invalid_token", r.JSON(t)["error"])

	bob := login(t, s.URL, "bob", "hunter2")
	r = do(t, http.MethodGet, s.URL+"/auth/me", bob["access_token"].(string), nil)
	assert.Equal(t, "bob", r.JSON(t)["username"])

	// The request log has one line per request, never a token or query.
	do(t, http.MethodGet, s.URL+"/healthz?secret=abc", access, nil)
	logs := s.Log.String()
	assert.NotContains(t, logs, access[:40])
	assert.NotContains(t, logs, "secret=abc")
	assert.NotContains(t, logs, "alice-password")
	assert.Contains(t, logs, `msg=request method=GET path=/healthz status=200`)
	assert.Contains(t, logs, `remote_ip=127.0.0.1`)
}

func TestServerLoginErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"empty body", "", http.StatusBadRequest, "invalid_request"},
		{"not JSON", "username=alice", http.StatusBadRequest, "invalid_request"},
		{"missing password", `{"username":"alice"}`, http.StatusBadRequest, "invalid_request"},
		{"wrong type", `{"username":1,"password":"x"}`, http.StatusBadRequest, "invalid_request"},
		{"duplicate key", `{"username":"alice","username":"bob","password":"x"}`, http.StatusBadRequest, "invalid_request"},
		{"long username", `{"username":"` + strings.Repeat("a", 200) + `","password":"x"}`, http.StatusBadRequest, "invalid_request"},
		{"wrong password", `{"username":"alice","password":"nope"}`, http.StatusUnauthorized, "invalid_credentials"},
		{"unknown user", `{"username":"mallory","password":"alice-password"}`, http.StatusUnauthorized, "invalid_credentials"},
		{"password over 72 bytes", `{"username":"alice","password":"alice-password` + strings.Repeat("x", 80) + `"}`, http.StatusUnauthorized, "invalid_credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodPost, s.URL+"/auth/login", "", tt.body)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			assert.Equal(t, tt.code, r.JSON(t)["error"])
			if tt.status == http.StatusUnauthorized {
				assert.Contains(t, r.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`)
			}
		})
	}
}

func TestServerUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	r := do(t, http.MethodGet, s.URL+"/nope", "", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
	assert.Equal(t, "not_found", r.JSON(t)["error"])
	r = do(t, http.MethodGet, s.URL+"/auth/login", "", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Equal(t, "invalid_request", r.JSON(t)["error"])
	r = do(t, http.MethodPut, s.URL+"/healthz", "", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	r = do(t, http.MethodGet, s.URL+"/healthz", "", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, map[string]any{"status": "ok", "store": "ok", "bus": "none", "cache": "on"}, r.JSON(t))
}

func TestServerBodyLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	big := `{"username":"alice","password":"` + strings.Repeat("a", 70<<10) + `"}`
	// Declared length over the limit.
	r := do(t, http.MethodPost, s.URL+"/auth/login", "", big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	assert.Equal(t, "invalid_request", r.JSON(t)["error"])
	// Chunked: no declared length.
	r = do(t, http.MethodPost, s.URL+"/auth/refresh", "", io.MultiReader(strings.NewReader(big)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	assert.Equal(t, "invalid_request", r.JSON(t)["error"])
}

func TestServerRecoversPanicsAs503(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.echo.GET("/panic", func(echo.Context) error { panic("boom") })
	s.echo.GET("/fail", func(echo.Context) error { return io.ErrUnexpectedEOF })
	for _, path := range []string{"/panic", "/fail"} {
		r := do(t, http.MethodGet, s.URL+path, "", nil)
		assert.Equal(t, http.StatusServiceUnavailable, r.Status, path)
		assert.Equal(t, "unavailable", r.JSON(t)["error"], path)
		assert.Equal(t, "1", r.Header.Get("Retry-After"))
	}
	assert.Contains(t, s.Log.String(), "panic in handler")
}

func TestServerHealthzUnavailable(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	require.NoError(t, s.backend.DB.Close())
	r := do(t, http.MethodGet, s.URL+"/healthz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status)
	body := r.JSON(t)
	assert.Equal(t, "unavailable", body["error"])
	assert.Equal(t, "unavailable", body["status"])
	assert.Equal(t, "down", body["store"])
	assert.Equal(t, "1", r.Header.Get("Retry-After"))
}

func TestServerLoginThrottle(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"JWTAUTH_DEMO_USERS": "alice:alice-password,bob:bob-password"})
	for i := range throttle.DefaultBurst {
		r := do(t, http.MethodPost, s.URL+"/auth/login", "", `{"username":"alice","password":"wrong"}`)
		require.Equal(t, http.StatusUnauthorized, r.Status, "failure %d", i+1)
	}
	// alice's bucket (and this IP's) is empty: even the right password waits.
	r := do(t, http.MethodPost, s.URL+"/auth/login", "", `{"username":"alice","password":"alice-password"}`)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "too_many_requests", r.JSON(t)["error"])
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.True(t, secs >= 1 && secs <= 10, "Retry-After %d", secs)
	// Same IP, other user: the IP bucket is empty too.
	r = do(t, http.MethodPost, s.URL+"/auth/login", "", `{"username":"bob","password":"bob-password"}`)
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
}

func TestServerSuccessfulLoginsAreNotThrottled(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	for range 3 * throttle.DefaultBurst {
		login(t, s.URL, "alice", "alice-password")
	}
	users, ips := s.throttle.Len()
	assert.Zero(t, users+ips, "successes take no token")
}

func TestServerServeHTTP(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	// The handler can be driven without a listener too.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"ok","store":"ok","bus":"none","cache":"on"}`, rec.Body.String())
}
