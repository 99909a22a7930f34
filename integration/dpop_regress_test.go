package integration

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bugs the integration suite found in the DPoP code (issue 16), kept as
// regression tests: each failed before its fix.

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
// It failed when the transports recorded the proof before the service
// checked the token; they now spend it only once the request is
// authorized (dpop.Validator.Check, then Spend).
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
// It failed when jwtauth.Config.dpopConfig passed ClockSkew 0 as Skew 0;
// it now passes dpop.NoSkew.
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

// TestDPoPContract: docs/openapi.yaml, the contract every answer of the
// reference server is checked against (checkContract), documents DPoP:
// token_type DPoP, the codes invalid_dpop_proof and use_dpop_nonce, the
// 400 of a login with a bad proof or without a nonce, the DPoP and
// DPoP-Nonce headers, dpop_jkt on sessions. One answer of each kind, with
// nonces on. It failed before the document described DPoP.
func TestDPoPContract(t *testing.T) {
	t.Parallel()
	s := start(t, merge(newForger(t).env(), map[string]string{"JWTAUTH_DEMO_USERS": twoUsers, "JWTAUTH_DPOP": "allowed", "JWTAUTH_DPOP_NONCE": "true"}))
	c := s.client(t, clientOpts{Device: "d1"})
	k := newDPoPKey(t, false)
	creds := map[string]string{"username": "alice", "password": "alice-password"}
	login := func(muts ...mutation) resp {
		return c.dpop(t, dpopReq{method: "POST", path: "/auth/login", body: creds, proofs: []string{k.proof(t, "POST", s.URL+"/auth/login", "", muts...)}})
	}
	r := login()
	require.Equal(t, http.StatusBadRequest, r.Status, "use_dpop_nonce: %s", r.Body)
	answers := map[string]resp{"login: 400 use_dpop_nonce": r}
	nonce := claim("nonce", r.Header.Get("DPoP-Nonce"))
	answers["login: 400 invalid_dpop_proof"] = login(nonce, claim("htm", "GET"))
	r = login(nonce)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	answers["login: 200 token_type DPoP"] = r
	tok := r.Object(t)["access_token"].(string)
	answers["me: 401 invalid_dpop_proof"] = c.dpopMe(t, tok)
	answers["sessions: 200 with dpop_jkt"] = c.dpop(t, dpopReq{method: "GET", path: "/auth/sessions", scheme: "DPoP", token: tok,
		proofs: []string{k.proof(t, "GET", s.URL+"/auth/sessions", tok, nonce)}})
	ct, err := contract()
	require.NoError(t, err)
	for _, name := range slices.Sorted(maps.Keys(answers)) {
		method, path := "POST", "/auth/login"
		switch {
		case strings.HasPrefix(name, "me"):
			method, path = "GET", "/auth/me"
		case strings.HasPrefix(name, "sessions"):
			method, path = "GET", "/auth/sessions"
		}
		assert.NoError(t, ct.validate(method, path, answers[name]), name)
	}
}
