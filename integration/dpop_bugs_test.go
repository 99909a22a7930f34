package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Bugs found in the DPoP code by the integration suite (issue 16), as
// tests that fail until they are fixed.

// TestDPoPReplaySlotNeedsAToken: a proof that comes with a token the
// server refuses proves nothing, and must not take a place in the replay
// cache. The cache is bounded (dpop.DefaultReplayCacheSize, 100,000
// proofs for 65 s) and fails closed (503 for every DPoP request when
// full), so if unauthenticated requests fill it, anyone who can sign
// about 1,540 proofs a second with a key of their own (no account
// needed) keeps every DPoP client out. Sending such a proof twice shows
// whether it was remembered: the second answer must still be about the
// token, not a replay.
//
// It fails today: the transports validate and record the proof before
// the service checks the token (web.DPoP.resourceProof and tokenProof,
// then Service.Authenticate / Refresh / Verify).
func TestDPoPReplaySlotNeedsAToken(t *testing.T) {
	t.Parallel()
	s := start(t, merge(newForger(t).env(), map[string]string{"JWTAUTH_DEMO_USERS": twoUsers, "JWTAUTH_DPOP": "allowed"}))
	c := s.client(t, clientOpts{Device: "d1"})
	k := newDPoPKey(t, false) // the attacker's own key
	const garbage = "not-a-token"

	me := k.proof(t, "GET", s.URL+"/auth/me", garbage)
	refresh := k.proof(t, "POST", s.URL+"/auth/refresh", "")
	verify := k.proof(t, "POST", s.URL+"/auth/verify", garbage)
	for i := range 2 {
		r := c.dpopMe(t, garbage, me)
		assert.Equal(t, http.StatusUnauthorized, r.Status, "me #%d: %s", i+1, r.Body)
		assert.Equal(t, "invalid_token", r.Object(t)["error"], "me #%d: %s", i+1, r.Body)

		r = c.dpop(t, dpopReq{method: "POST", path: "/auth/refresh", proofs: []string{refresh}, body: map[string]string{"refresh_token": garbage}})
		assert.Equal(t, http.StatusUnauthorized, r.Status, "refresh #%d: %s", i+1, r.Body)
		assert.Equal(t, "invalid_token", r.Object(t)["error"], "refresh #%d: %s", i+1, r.Body)

		r = c.dpop(t, dpopReq{method: "POST", path: "/auth/verify", proofs: []string{verify}, body: map[string]string{"token": garbage}})
		assert.Equal(t, http.StatusUnauthorized, r.Status, "verify #%d: %s", i+1, r.Body)
		assert.Equal(t, "invalid_token", r.Object(t)["error"], "verify #%d: %s", i+1, r.Body)
	}
}

// TestDPoPClockSkewZero: JWTAUTH_CLOCK_SKEW=0s promises no skew (config.go:
// "0: none"), but dpop.Config treats a zero Skew as "default", so proofs
// still get 5 s: a proof issued 3 s in the future is accepted.
//
// It fails today: jwtauth.Config.dpopConfig passes ClockSkew 0 as Skew 0.
func TestDPoPClockSkewZero(t *testing.T) {
	t.Parallel()
	s := start(t, merge(newForger(t).env(), map[string]string{
		"JWTAUTH_DEMO_USERS": twoUsers, "JWTAUTH_DPOP": "allowed", "JWTAUTH_CLOCK_SKEW": "0s",
	}))
	c := s.client(t, clientOpts{Device: "d1"})
	k := newDPoPKey(t, false)
	tok := c.dpopLogin(t, "alice", k.proof(t, "POST", s.URL+"/auth/login", "")).AccessToken
	r := c.dpopMe(t, tok, k.proof(t, "GET", s.URL+"/auth/me", tok, claim("iat", time.Now().Unix()+3)))
	assert.Equal(t, http.StatusUnauthorized, r.Status, "a proof from 3 s ahead with no skew allowed: %s", r.Body)
}
