package webtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/dpop"
)

// signer holds a DPoP key and signs proofs for the harness's requests.
type signer struct {
	*dpop.Transport
}

func newSigner(t *testing.T, ed bool) signer {
	t.Helper()
	var tr *dpop.Transport
	var err error
	if ed {
		_, key, kerr := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, kerr)
		tr, err = dpop.NewTransport(key, nil)
	} else {
		key, kerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, kerr)
		tr, err = dpop.NewTransport(key, nil)
	}
	require.NoError(t, err)
	return signer{tr}
}

// proof signs a proof for method and h's path, with ath of token when not
// empty and nonce when not empty.
func (s signer) proof(t *testing.T, h *H, method, path, token, nonce string) string {
	t.Helper()
	p, err := s.Proof(method, h.URL+path, token, nonce)
	require.NoError(t, err)
	return p
}

// dpopLogin logs user in with a proof by s and returns the login body.
func (h *H) dpopLogin(t *testing.T, s signer, user string, c Client) map[string]any {
	t.Helper()
	res := h.Do(t, Req{Client: c, Method: http.MethodPost, Path: LoginPath,
		JSON:   LoginRequest{Username: user, Password: "pw-" + user},
		Header: http.Header{"DPoP": {s.proof(t, h, http.MethodPost, LoginPath, "", "")}}})
	require.Equal(t, http.StatusOK, res.Status, "login: %s", res.Body)
	return res.Object(t)
}

// dpopMe calls the protected route with "Authorization: DPoP token" and
// proof (none when "").
func (h *H) dpopMe(t *testing.T, token, proof string, c Client) Resp {
	t.Helper()
	hdr := http.Header{"Authorization": {"DPoP " + token}}
	if proof != "" {
		hdr.Set("DPoP", proof)
	}
	return h.Do(t, Req{Client: c, Method: http.MethodGet, Path: MePath, Header: hdr})
}

// wantProofError asserts a resource request's RFC 9449 §7.1 answer.
func wantProofError(t *testing.T, res Resp, code string) {
	t.Helper()
	WantError(t, res, http.StatusUnauthorized, code)
	assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `DPoP error="`+code+`"`), "challenge %q", res.Header.Get("WWW-Authenticate"))
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), `algs="ES256 EdDSA"`)
}

var dpopOn = &dpop.Config{}

// dpopCases are the DPoP behaviours of both transports.
func dpopCases() []Case {
	return []Case{
		{Name: "dpop: a login with a proof binds the session and both tokens to the key", DPoP: dpopOn, Run: func(t *testing.T, h *H) {
			for _, ed := range []bool{false, true} {
				s := newSigner(t, ed)
				lr := h.dpopLogin(t, s, "alice", local)
				assert.Equal(t, "DPoP", lr["token_type"])
				tok := lr["access_token"].(string)
				res := h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, MePath, tok, ""), local)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

				sessions := h.Do(t, Req{Method: http.MethodGet, Path: "/auth/sessions",
					Header: http.Header{"Authorization": {"DPoP " + tok}, "DPoP": {s.proof(t, h, http.MethodGet, "/auth/sessions", tok, "")}}})
				require.Equal(t, http.StatusOK, sessions.Status, "%s", sessions.Body)
				assert.Contains(t, string(sessions.Body), `"dpop_jkt":"`+s.JKT()+`"`)
			}
		}},
		{Name: "dpop: a bound access token needs a fresh proof by its key, for this request and token", DPoP: dpopOn, Run: func(t *testing.T, h *H) {
			s, thief := newSigner(t, false), newSigner(t, true)
			lr := h.dpopLogin(t, s, "alice", local)
			tok := lr["access_token"].(string)
			other := h.dpopLogin(t, s, "bob", local)["access_token"].(string)

			res := h.Me(t, tok, local) // Bearer use of a bound token
			wantProofError(t, res, "invalid_dpop_proof")
			wantProofError(t, h.dpopMe(t, tok, "", local), "invalid_dpop_proof")
			wantProofError(t, h.dpopMe(t, tok, thief.proof(t, h, http.MethodGet, MePath, tok, ""), local), "invalid_dpop_proof")
			wantProofError(t, h.dpopMe(t, tok, s.proof(t, h, http.MethodPost, MePath, tok, ""), local), "invalid_dpop_proof")
			wantProofError(t, h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, "/elsewhere", tok, ""), local), "invalid_dpop_proof")
			wantProofError(t, h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, MePath, other, ""), local), "invalid_dpop_proof")
			wantProofError(t, h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, MePath, "", ""), local), "invalid_dpop_proof")
			wantProofError(t, h.dpopMe(t, tok, "not.a.proof", local), "invalid_dpop_proof")

			proof := s.proof(t, h, http.MethodGet, MePath, tok, "")
			require.Equal(t, http.StatusOK, h.dpopMe(t, tok, proof, local).Status)
			wantProofError(t, h.dpopMe(t, tok, proof, local), "invalid_dpop_proof") // replayed

			// A token error of a DPoP request gets a DPoP challenge first.
			logout := h.Do(t, Req{Method: http.MethodPost, Path: "/auth/logout",
				Header: http.Header{"Authorization": {"DPoP " + tok}, "DPoP": {s.proof(t, h, http.MethodPost, "/auth/logout", tok, "")}}})
			require.Equal(t, http.StatusNoContent, logout.Status, "%s", logout.Body)
			res = h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, MePath, tok, ""), local)
			WantError(t, res, http.StatusUnauthorized, "token_revoked")
			assert.Equal(t, []string{`DPoP error="invalid_token", error_description="the token has been revoked", algs="ES256 EdDSA"`,
				`Bearer error="invalid_token", error_description="the token has been revoked"`}, res.Header.Values("WWW-Authenticate"))
		}},
		{Name: "dpop: a bound session refreshes only with a proof by the same key", DPoP: dpopOn, Config: rotate, Run: func(t *testing.T, h *H) {
			s, thief := newSigner(t, false), newSigner(t, false)
			lr := h.dpopLogin(t, s, "alice", local)
			rt := lr["refresh_token"].(string)
			refresh := func(proof string) Resp {
				hdr := http.Header{}
				if proof != "" {
					hdr.Set("DPoP", proof)
				}
				return h.Do(t, Req{Method: http.MethodPost, Path: "/auth/refresh", JSON: map[string]string{"refresh_token": rt}, Header: hdr})
			}
			WantError(t, refresh(""), http.StatusBadRequest, "invalid_dpop_proof")
			WantError(t, refresh(thief.proof(t, h, http.MethodPost, "/auth/refresh", "", "")), http.StatusBadRequest, "invalid_dpop_proof")
			res := refresh(s.proof(t, h, http.MethodPost, "/auth/refresh", "", ""))
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			body := res.Object(t)
			assert.Equal(t, "DPoP", body["token_type"])
			tok := body["access_token"].(string)
			require.Equal(t, http.StatusOK, h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, MePath, tok, ""), local).Status)
			wantProofError(t, h.Me(t, tok, local), "invalid_dpop_proof")
		}},
		{Name: "dpop: allowed mode leaves clients without proofs on Bearer, and advertises DPoP", DPoP: dpopOn, Run: func(t *testing.T, h *H) {
			lr := h.LoginAs(t, "alice", local)
			assert.Equal(t, "Bearer", lr.TokenType)
			require.Equal(t, http.StatusOK, h.Me(t, lr.AccessToken, local).Status)
			s := newSigner(t, false)
			wantProofError(t, h.dpopMe(t, lr.AccessToken, s.proof(t, h, http.MethodGet, MePath, lr.AccessToken, ""), local), "invalid_dpop_proof")
			res := h.Me(t, "", local)
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
			assert.Equal(t, []string{`Bearer realm="jwtauth", error="invalid_token", error_description="missing bearer token"`, `DPoP algs="ES256 EdDSA"`},
				res.Header.Values("WWW-Authenticate"))
		}},
		{Name: "dpop: a login with a bad proof is 400 invalid_dpop_proof", DPoP: dpopOn, Run: func(t *testing.T, h *H) {
			s := newSigner(t, false)
			for _, proof := range []string{"garbage", s.proof(t, h, http.MethodPost, "/auth/other", "", ""), s.proof(t, h, http.MethodGet, LoginPath, "", "")} {
				res := h.Do(t, Req{Method: http.MethodPost, Path: LoginPath, JSON: LoginRequest{Username: "alice", Password: "pw-alice"},
					Header: http.Header{"DPoP": {proof}}})
				WantError(t, res, http.StatusBadRequest, "invalid_dpop_proof")
			}
		}},
		{Name: "dpop: required mode refuses logins, refreshes and requests without a proof, and the browser group", DPoP: dpopOn, DPoPRequired: true, Run: func(t *testing.T, h *H) {
			res := h.Post(t, LoginPath, "", LoginRequest{Username: "alice", Password: "pw-alice"}, local)
			WantError(t, res, http.StatusBadRequest, "invalid_dpop_proof")
			res = h.Post(t, "/auth/browser/login", "", LoginRequest{Username: "alice", Password: "pw-alice"}, local)
			WantError(t, res, http.StatusBadRequest, "invalid_dpop_proof")
			s := newSigner(t, false)
			lr := h.dpopLogin(t, s, "alice", local)
			res = h.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": lr["refresh_token"]}, local)
			WantError(t, res, http.StatusBadRequest, "invalid_dpop_proof")
			wantProofError(t, h.Me(t, lr["access_token"].(string), local), "invalid_dpop_proof")
		}},
		{Name: "dpop: off, the DPoP scheme is unknown and DPoP headers are ignored", Run: func(t *testing.T, h *H) {
			s := newSigner(t, false)
			res := h.Do(t, Req{Method: http.MethodPost, Path: LoginPath, JSON: LoginRequest{Username: "alice", Password: "pw-alice"},
				Header: http.Header{"DPoP": {s.proof(t, h, http.MethodPost, LoginPath, "", "")}}})
			require.Equal(t, http.StatusOK, res.Status)
			lr := res.Object(t)
			assert.Equal(t, "Bearer", lr["token_type"])
			tok := lr["access_token"].(string)
			res = h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, MePath, tok, ""), local)
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
			assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Bearer realm="jwtauth"`))
		}},
		{Name: "dpop: nonces, stateless, are asked for and followed by the Go client", DPoP: &dpop.Config{NonceKey: make([]byte, 32)}, Run: func(t *testing.T, h *H) {
			s := newSigner(t, false)
			res := h.Do(t, Req{Method: http.MethodPost, Path: LoginPath, JSON: LoginRequest{Username: "alice", Password: "pw-alice"},
				Header: http.Header{"DPoP": {s.proof(t, h, http.MethodPost, LoginPath, "", "")}}})
			WantError(t, res, http.StatusBadRequest, "use_dpop_nonce")
			nonce := res.Header.Get("DPoP-Nonce")
			require.NotEmpty(t, nonce)
			res = h.Do(t, Req{Method: http.MethodPost, Path: LoginPath, JSON: LoginRequest{Username: "alice", Password: "pw-alice"},
				Header: http.Header{"DPoP": {s.proof(t, h, http.MethodPost, LoginPath, "", nonce)}}})
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.NotEmpty(t, res.Header.Get("DPoP-Nonce"), "a fresh nonce with every token response")
			tok := res.Object(t)["access_token"].(string)
			res = h.dpopMe(t, tok, s.proof(t, h, http.MethodGet, MePath, tok, ""), local)
			wantProofError(t, res, "use_dpop_nonce")
			assert.NotEmpty(t, res.Header.Get("DPoP-Nonce"))

			// The Go client: a fresh key, no nonce yet; it follows the
			// server's DPoP-Nonce on its own.
			c := newSigner(t, true)
			c.Base = h.client(t, "127.0.0.1").Transport
			hc := &http.Client{Transport: c.Transport}
			body := `{"username":"bob","password":"pw-bob"}`
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+LoginPath, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			require.NoError(t, err)
			var login map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&login))
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode, "%v", login)
			req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL+MePath, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "DPoP "+login["access_token"].(string))
			resp, err = hc.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		}},
		{Name: "dpop: a refused request does not spend its proof", DPoP: dpopOn, Config: rotate, Run: func(t *testing.T, h *H) {
			// Otherwise anyone with a key could fill the bounded replay
			// cache with proofs for made-up tokens.
			s := newSigner(t, false)
			forged := "forged.token.of.no.one"
			proof := s.proof(t, h, http.MethodGet, MePath, forged, "")
			for range 2 {
				WantError(t, h.dpopMe(t, forged, proof, local), http.StatusUnauthorized, "invalid_token")
			}
			refresh := s.proof(t, h, http.MethodPost, "/auth/refresh", "", "")
			for range 2 {
				res := h.Do(t, Req{Method: http.MethodPost, Path: "/auth/refresh", JSON: map[string]string{"refresh_token": forged}, Header: http.Header{"DPoP": {refresh}}})
				WantError(t, res, http.StatusUnauthorized, "invalid_token")
			}
			// A proof for an accepted request is spent.
			lr := h.dpopLogin(t, s, "alice", local)
			rt := lr["refresh_token"].(string)
			for i, want := range []int{http.StatusOK, http.StatusBadRequest} {
				res := h.Do(t, Req{Method: http.MethodPost, Path: "/auth/refresh", JSON: map[string]string{"refresh_token": rt}, Header: http.Header{"DPoP": {refresh}}})
				require.Equal(t, want, res.Status, "refresh %d: %s", i, res.Body)
			}
		}},
		{Name: "dpop: one proof sent by many goroutines at once is accepted exactly once", DPoP: dpopOn, Run: func(t *testing.T, h *H) {
			s := newSigner(t, false)
			tok := h.dpopLogin(t, s, "alice", local)["access_token"].(string)
			proof := s.proof(t, h, http.MethodGet, MePath, tok, "")
			const n = 32
			var ok, refused atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					switch h.dpopMe(t, tok, proof, local).Status {
					case http.StatusOK:
						ok.Add(1)
					case http.StatusUnauthorized:
						refused.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			assert.Equal(t, int64(1), ok.Load())
			assert.Equal(t, int64(n-1), refused.Load())
		}},
	}
}

// rotate turns refresh rotation on.
func rotate(c *app.Config) { c.RotateRefresh = true; c.ReuseGrace = time.Second }
