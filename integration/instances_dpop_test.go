package integration

import (
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// dpopPublic is the JWTAUTH_PUBLIC_URL of both instances.
const dpopPublic = "https://auth.example.com"

// dpopRounds is how many fresh proofs TestDPoPTwoInstances sends.
const dpopRounds = 200

// TestDPoPTwoInstances measures what DPoP's replay cache holds across
// instances. Two servers share one PostgreSQL database and the keys; each
// round a fresh proof for one bound token is sent four times at once,
// twice to each instance. The replay cache is per process, so each
// instance accepts the proof at most once (asserted) but both may accept
// it: the cross-instance count is logged, bounded by the number of
// instances (asserted). Server nonces (JWTAUTH_DPOP_NONCE) do not change
// that: a nonce is valid on every instance for its lifetime, and a
// replayed proof carries the same valid nonce.
func TestDPoPTwoInstances(t *testing.T) {
	t.Parallel()
	for _, nonce := range []string{"false", "true"} {
		t.Run("nonce="+nonce, func(t *testing.T) {
			t.Parallel()
			dsn := pgtest.DSN(t)
			env := merge(keygen(t), map[string]string{
				"JWTAUTH_DATABASE_URL": dsn,
				"JWTAUTH_DEMO_USERS":   twoUsers,
				"JWTAUTH_DPOP":         "allowed",
				"JWTAUTH_DPOP_NONCE":   nonce,
				// One public URL in front of both, as behind a load
				// balancer: the same proof bytes are valid on both.
				"JWTAUTH_PUBLIC_URL": dpopPublic,
			})
			out, code := runBinary(t, []string{"PATH=" + os.Getenv("PATH"), "JWTAUTH_DATABASE_URL=" + dsn}, "migrate")
			require.Equal(t, 0, code, out)
			a, b := start(t, env), start(t, env)
			ca, cb := a.client(t, clientOpts{Device: "d1"}), b.client(t, clientOpts{Device: "d1"})
			k := newDPoPKey(t, false)

			var muts []mutation
			if nonce == "true" {
				// The nonce a issues, as a client learns it.
				r := ca.dpop(t, dpopReq{method: "POST", path: "/auth/login", proofs: []string{k.proof(t, "POST", dpopPublic+"/auth/login", "")},
					body: map[string]string{"username": "alice", "password": "alice-password"}})
				wantError(t, r, http.StatusBadRequest, "use_dpop_nonce")
				n := r.Header.Get("DPoP-Nonce")
				require.NotEmpty(t, n)
				muts = append(muts, claim("nonce", n))
			}
			tok := ca.dpopLogin(t, "alice", k.proof(t, "POST", dpopPublic+"/auth/login", "", muts...)).AccessToken
			var both, oneOnly int
			for range dpopRounds {
				proof := k.proof(t, "GET", dpopPublic+"/auth/me", tok, muts...)
				var okA, okB atomic.Int64
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range 4 {
					wg.Go(func() {
						<-start
						c, ok := ca, &okA
						if i%2 == 1 {
							c, ok = cb, &okB
						}
						r := c.dpopMe(t, tok, proof)
						switch r.Status {
						case http.StatusOK:
							ok.Add(1)
						default:
							wantError(t, r, http.StatusUnauthorized, "invalid_dpop_proof")
						}
					})
				}
				close(start)
				wg.Wait()
				require.LessOrEqual(t, okA.Load(), int64(1), "instance a accepts a proof at most once")
				require.LessOrEqual(t, okB.Load(), int64(1), "instance b accepts a proof at most once")
				require.Positive(t, okA.Load()+okB.Load(), "a fresh proof is accepted somewhere")
				if okA.Load()+okB.Load() == 2 {
					both++
				} else {
					oneOnly++
				}
			}
			t.Logf("nonce=%s: of %d proofs each sent twice to each of two instances at once, %d were accepted by both instances, %d by one", nonce, dpopRounds, both, oneOnly)
			// Each instance's cache is its own: nothing stops b from
			// accepting what a accepted.
			assert.Equal(t, dpopRounds, both+oneOnly)
		})
	}
}

// TestDPoPOneInstanceConcurrent: one proof sent by many goroutines at
// once to one instance is accepted exactly once.
func TestDPoPOneInstanceConcurrent(t *testing.T) {
	t.Parallel()
	s := start(t, merge(newForger(t).env(), map[string]string{"JWTAUTH_DEMO_USERS": twoUsers, "JWTAUTH_DPOP": "allowed"}))
	c := s.client(t, clientOpts{Device: "d1"})
	k := newDPoPKey(t, true)
	tok := c.dpopLogin(t, "alice", k.proof(t, "POST", s.URL+"/auth/login", "")).AccessToken
	const rounds, n = 5, 32
	for range rounds {
		proof := k.proof(t, "GET", s.URL+"/auth/me", tok)
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				r := c.dpopMe(t, tok, proof)
				switch r.Status {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusUnauthorized:
					if assert.Equal(t, "invalid_dpop_proof", r.Object(t)["error"]) {
						refused.Add(1)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		require.Equal(t, int64(1), ok.Load(), "accepted exactly once")
		require.Equal(t, int64(n-1), refused.Load())
	}
}
