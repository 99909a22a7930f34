package integration

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoginThrottling: an address that failed too often gets 429 with
// Retry-After for everything; a username that failed too often gets 429
// for further failures, while its owner still logs in from elsewhere.
func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{"JWTAUTH_DEMO_USERS": twoUsers + ",carol:carol-password"}))
		attacker := s.client(t, clientOpts{Device: "a"})
		elsewhere := s.client(t, clientOpts{Device: "b", From: "127.0.0.2"})

		// Successes never count.
		for range 12 {
			attacker.login(t, "carol", "carol-password")
		}

		for range 5 {
			r := attacker.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": "guess"})
			wantError(t, r, http.StatusUnauthorized, "invalid_credentials")
		}
		r := attacker.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": "guess"})
		wantError(t, r, http.StatusTooManyRequests, "too_many_requests")
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After %q", r.Header.Get("Retry-After"))
		assert.True(t, secs >= 1 && secs <= 10, "Retry-After %d", secs)

		// From the attacker's address even the right password waits:
		// guessing cannot be confirmed faster than the bucket allows.
		r = attacker.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": "alice-password"})
		wantError(t, r, http.StatusTooManyRequests, "too_many_requests")
		r = attacker.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": "bob", "password": "bob-password"})
		wantError(t, r, http.StatusTooManyRequests, "too_many_requests")
		// Elsewhere, wrong guesses for alice are held back, but alice
		// herself is never locked out by someone else's failures.
		r = elsewhere.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": "guess"})
		wantError(t, r, http.StatusTooManyRequests, "too_many_requests")
		lr0 := elsewhere.login(t, "alice", "alice-password")
		wantMe(t, elsewhere.me(t, lr0.AccessToken), "alice")

		// Another user from another address logs in, again and again.
		for range 8 {
			lr := elsewhere.login(t, "bob", "bob-password")
			wantMe(t, elsewhere.me(t, lr.AccessToken), "bob")
		}
		// Tokens issued before keep working.
		lr := elsewhere.login(t, "carol", "carol-password")
		wantMe(t, elsewhere.me(t, lr.AccessToken), "carol")
	})
}
