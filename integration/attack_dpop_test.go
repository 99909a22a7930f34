package integration

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/dpop"
)

// The DPoP attack suite (RFC 9449), against the reference server. Every
// case states the answer (status and error code; on 401 the checks of
// client.dpop add the DPoP challenge) and, for a request whose proof the
// server validates, why: the dpop sentinel that a Validator configured
// as the server returns for the same proof, in the same order
// (errProofOK: the proof is valid and what fails is the binding of key
// and token). Each bad proof is a valid one with one thing changed, and
// controls show the valid one accepted. Removing any one check of
// dpop.Validator makes cases fail (tried one by one), except the check
// for private jwk members, which go-jose's parse and the key type check
// reject as well.

// errProofOK is the why of a case whose proof is valid.
var errProofOK = errors.New("the proof is valid")

// dpopCase is one request of a DPoP attack and its expected answer.
type dpopCase struct {
	name   string
	c      *client
	req    dpopReq
	status int
	code   string // "" for a 200
	why    error  // nil: the proof is not validated by the server (Bearer)
	nonce  bool   // the answer must carry DPoP-Nonce
}

// dpopRun runs cases against one server, keeping mirror (a Validator
// configured as the server) in step.
type dpopRun struct {
	t      *testing.T
	mirror *dpop.Validator
	public string // the server's JWTAUTH_PUBLIC_URL, if any
	n      int
}

func (x *dpopRun) run(cases ...dpopCase) []resp {
	t := x.t
	t.Helper()
	out := make([]resp, 0, len(cases))
	for _, tc := range cases {
		r := tc.c.dpop(t, tc.req)
		out = append(out, r)
		x.n++
		if !assert.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body) {
			continue
		}
		if tc.code != "" {
			assert.Equal(t, tc.code, r.Object(t)["error"], "%s: %s", tc.name, r.Body)
		}
		if tc.nonce {
			assert.NotEmpty(t, r.Header.Get("DPoP-Nonce"), "%s: DPoP-Nonce", tc.name)
		}
		if tc.why != nil {
			assert.NoError(t, x.check(tc), "%s: in process", tc.name)
		}
	}
	return out
}

// check validates the case's proof with the mirror and compares the
// outcome with tc.why.
func (x *dpopRun) check(tc dpopCase) error {
	proof, err := dpop.ProofFromHeader(http.Header{"Dpop": tc.req.proofs})
	if err == nil {
		host := tc.c.s.URL
		switch {
		case x.public != "":
			host = x.public
		case tc.req.host != "":
			host = "http://" + tc.req.host
		}
		target, perr := url.Parse(host + tc.req.path)
		if perr != nil {
			return perr
		}
		token := ""
		if tc.req.scheme == "DPoP" || tc.req.path == "/auth/verify" {
			token = tc.req.token
			if b, ok := tc.req.body.(map[string]string); ok && token == "" {
				token = b["token"]
			}
		}
		_, err = x.mirror.Validate(proof, tc.req.method, target, token)
	}
	switch {
	case tc.why == errProofOK && err == nil:
		return nil
	case tc.why != errProofOK && errors.Is(err, tc.why):
		return nil
	}
	return fmt.Errorf("got %v, want %v", err, tc.why)
}

// reSign returns proof with its claims replaced by those of other, its
// signature kept: claims edited after signing.
func reSign(proof, other string) string {
	p, q := strings.Split(proof, "."), strings.Split(other, ".")
	return p[0] + "." + q[1] + "." + p[2]
}

// padded returns the smallest proof by k (with muts) padded by a "pad"
// claim to more than size bytes, and the largest not more than size.
func padded(t *testing.T, k dpopKey, method, url, token string, size int) (over, under string) {
	t.Helper()
	for n := size*3/4 - 400; ; n++ {
		p := k.proof(t, method, url, token, claim("pad", strings.Repeat("p", n)))
		if len(p) > size {
			require.NotEmpty(t, under)
			return p, under
		}
		under = p
	}
}

// nonceKey is the nonce key the reference server derives from its
// signing key (jwtauth.Config.DPoPValidator): making nonces with it in
// process shows that any instance sharing the signing key accepts them.
func nonceKey(t *testing.T, signingKey []byte) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, signingKey, nil, "jwtauth DPoP nonce key v1", 32)
	require.NoError(t, err)
	return k
}

const dpopUsers = "alice:alice-password,bob:bob-password,carol:carol-password,dave:dave-password"

// TestAttackDPoP runs every rejection of RFC 9449 §4.3, §7 and §8 against
// the reference server: allowed mode on SQLite and PostgreSQL (the key
// binding is stored with the session), required mode behind a public
// URL, and server nonces.
func TestAttackDPoP(t *testing.T) {
	t.Parallel()
	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		eachBackend(t, attackDPoPAllowed)
	})
	t.Run("required", func(t *testing.T) {
		t.Parallel()
		attackDPoPRequired(t)
	})
	t.Run("nonce", func(t *testing.T) {
		t.Parallel()
		attackDPoPNonce(t)
	})
}

func attackDPoPAllowed(t *testing.T, env map[string]string) {
	s := start(t, merge(env, newForger(t).env(), map[string]string{
		"JWTAUTH_DEMO_USERS":          dpopUsers,
		"JWTAUTH_DPOP":                "allowed",
		"JWTAUTH_DPOP_MAX_AGE":        "30s",
		"JWTAUTH_ROTATE_REFRESH":      "true",
		"JWTAUTH_REFRESH_REUSE_GRACE": "1m",
	}))
	mirror, err := dpop.New(dpop.Config{MaxAge: 30 * time.Second})
	require.NoError(t, err)
	x := &dpopRun{t: t, mirror: mirror}
	t.Cleanup(func() { t.Logf("DPoP attack cases (allowed): %d", x.n) })

	c := s.client(t, clientOpts{Device: "laptop-1"})
	other := s.client(t, clientOpts{Device: "phone-1"})
	k, thief := newDPoPKey(t, false), newDPoPKey(t, true)
	at := func(path string) string { return s.URL + path }
	const me, login, refresh, verify = "/auth/me", "/auth/login", "/auth/refresh", "/auth/verify"

	la := c.dpopLogin(t, "alice", k.proof(t, "POST", at(login), ""))
	tok := la.AccessToken
	bob := other.dpopLogin(t, "bob", k.proof(t, "POST", at(login), "")).AccessToken
	carol := other.login(t, "carol", "carol-password") // unbound, Bearer

	get := func(proofs ...string) dpopReq {
		return dpopReq{method: "GET", path: me, scheme: "DPoP", token: tok, proofs: proofs}
	}
	p := func(muts ...mutation) string { return k.proof(t, "GET", at(me), tok, muts...) }
	fresh := p()
	over, under := padded(t, k, "GET", at(me), tok, dpop.DefaultMaxProofSize)
	now := time.Now().Unix()
	hs := func(pp *proofParts) {
		pp.method, pp.key = jwt.SigningMethodHS256, []byte("a shared secret of thirty-two b!")
	}
	none := func(pp *proofParts) { pp.method, pp.key = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType }

	x.run(
		// The resource request: GET /auth/me with Authorization: DPoP.
		dpopCase{name: "control: a fresh proof for this request and token", c: c, req: get(fresh), status: 200, why: errProofOK},
		dpopCase{name: "replay: the same proof again", c: c, req: get(fresh), status: 401, code: "invalid_dpop_proof", why: dpop.ErrReplay},
		dpopCase{name: "control: iat 20 s old, under JWTAUTH_DPOP_MAX_AGE=30s", c: c, req: get(p(claim("iat", now-20))), status: 200, why: errProofOK},
		dpopCase{name: "stale iat: 31 s old", c: c, req: get(p(claim("iat", now-31))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrIssuedAt},
		dpopCase{name: "stale iat: 1 h old", c: c, req: get(p(claim("iat", now-3600))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrIssuedAt},
		dpopCase{name: "control: iat 2 s ahead, within the skew (JWTAUTH_CLOCK_SKEW=5s)", c: c, req: get(p(claim("iat", now+2))), status: 200, why: errProofOK},
		dpopCase{name: "future iat: 30 s ahead", c: c, req: get(p(claim("iat", now+30))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrIssuedAt},
		dpopCase{name: "iat a string", c: c, req: get(p(claim("iat", fmt.Sprint(now)))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMalformed},
		dpopCase{name: "wrong htm: POST for a GET", c: c, req: get(p(claim("htm", "POST"))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMethod},
		dpopCase{name: "wrong htm: get in lower case", c: c, req: get(p(claim("htm", "get"))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMethod},
		dpopCase{name: "wrong htu: another path", c: c, req: get(p(claim("htu", at("/auth/sessions")))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "wrong htu: a path prefix", c: c, req: get(p(claim("htu", at("/auth")))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "wrong htu: another host", c: c, req: get(p(claim("htu", "http://api.example.com"+me))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "wrong htu: another port", c: c, req: get(p(claim("htu", "http://127.0.0.1:1"+me))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "wrong htu: https", c: c, req: get(p(claim("htu", strings.Replace(at(me), "http:", "https:", 1)))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "wrong htu: relative", c: c, req: get(p(claim("htu", me))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "control: htu with a query and a fragment (ignored, §4.3)", c: c, req: get(p(claim("htu", at(me)+"?x=1#f"))), status: 200, why: errProofOK},
		dpopCase{name: "control: a request with a query, htu without", c: c, req: dpopReq{method: "GET", path: me + "?x=1", scheme: "DPoP", token: tok, proofs: []string{p()}}, status: 200, why: errProofOK},
		dpopCase{name: "control: without JWTAUTH_PUBLIC_URL, htu is checked against the Host header the client sends", c: c, req: dpopReq{method: "GET", path: me, scheme: "DPoP", token: tok, host: "api.example.com", proofs: []string{p(claim("htu", "http://api.example.com"+me))}}, status: 200, why: errProofOK},
		dpopCase{name: "control: htu in another case and with the default port (RFC 3986 normalisation)", c: c, req: get(p(claim("htu", "HTTP://127.0.0.1:"+s.Port+"/auth/./me"))), status: 200, why: errProofOK},
		dpopCase{name: "wrong ath: the hash of another bound token", c: c, req: get(k.proof(t, "GET", at(me), bob)), status: 401, code: "invalid_dpop_proof", why: dpop.ErrAccessTokenHash},
		dpopCase{name: "missing ath", c: c, req: get(p(claim("ath", nil))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrAccessTokenHash},
		dpopCase{name: "ath of the token in hex", c: c, req: get(p(claim("ath", fmt.Sprintf("%x", sha256.Sum256([]byte(tok)))))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrAccessTokenHash},
		dpopCase{name: "missing jti", c: c, req: get(p(claim("jti", nil))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMissingClaim},
		dpopCase{name: "alg none", c: c, req: get(p(none)), status: 401, code: "invalid_dpop_proof", why: dpop.ErrAlgorithm},
		dpopCase{name: "HS256 with the EC jwk", c: c, req: get(p(hs)), status: 401, code: "invalid_dpop_proof", why: dpop.ErrAlgorithm},
		dpopCase{name: "HS256 with the secret as an oct jwk", c: c, req: get(p(hs, hdr("jwk", map[string]any{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString([]byte("a shared secret of thirty-two b!"))}))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrAlgorithm},
		dpopCase{name: "RS256, asymmetric but not in JWTAUTH_DPOP_ALGS", c: c, req: get(p(func(pp *proofParts) {
			pp.method, pp.key, pp.header["jwk"] = jwt.SigningMethodRS256, rsaKey(), jwkOf(t, rsaKey().Public())
		})), status: 401, code: "invalid_dpop_proof", why: dpop.ErrAlgorithm},
		dpopCase{name: "typ JWT", c: c, req: get(p(hdr("typ", "JWT"))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrType},
		dpopCase{name: "typ missing", c: c, req: get(p(hdr("typ", nil))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrType},
		dpopCase{name: "typ application/dpop+jwt", c: c, req: get(p(hdr("typ", "application/dpop+jwt"))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrType},
		dpopCase{name: "jwk with its private part d", c: c, req: get(p(hdr("jwk", jwkOf(t, k.priv)))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrKey},
		dpopCase{name: "jwk missing", c: c, req: get(p(hdr("jwk", nil))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrKey},
		dpopCase{name: "jwk of another curve than alg says (Ed25519 key, ES256)", c: c, req: get(p(hdr("jwk", thief.jwk))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrKey},
		dpopCase{name: "jwk of another P-256 key than the signature's", c: c, req: get(p(hdr("jwk", newDPoPKey(t, false).jwk))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrSignature},
		dpopCase{name: "claims edited after signing (htm of another proof)", c: c, req: get(reSign(p(), p(claim("jti", "edited")))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrSignature},
		dpopCase{name: "crit header", c: c, req: get(p(hdr("crit", []string{"exp"}))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMalformed},
		dpopCase{name: fmt.Sprintf("control: a %d-byte proof (limit 4096)", len(under)), c: c, req: get(under), status: 200, why: errProofOK},
		dpopCase{name: fmt.Sprintf("oversize: a %d-byte proof", len(over)), c: c, req: get(over), status: 401, code: "invalid_dpop_proof", why: dpop.ErrTooLarge},
		dpopCase{name: "oversize: 11 KiB", c: c, req: get(p(claim("pad", strings.Repeat("p", 8<<10)))), status: 401, code: "invalid_dpop_proof", why: dpop.ErrTooLarge},
		dpopCase{name: "two DPoP headers, each a valid proof", c: c, req: get(p(), p()), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMissingProof},
		dpopCase{name: "empty DPoP header", c: c, req: get(""), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMissingProof},
		dpopCase{name: "garbage", c: c, req: get("garbage"), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMalformed},
		dpopCase{name: "garbage in three segments", c: c, req: get("a.b.c"), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMalformed},
		dpopCase{name: "four segments", c: c, req: get(p() + ".x"), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMalformed},
		dpopCase{name: "a JWE where the proof goes (the access token itself)", c: c, req: get(tok), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMalformed},

		// The key binding.
		dpopCase{name: "a bound token with the DPoP scheme and no proof", c: c, req: get(), status: 401, code: "invalid_dpop_proof", why: dpop.ErrMissingProof},
		dpopCase{name: "another key's valid proof for the token (a thief's)", c: c, req: get(thief.proof(t, "GET", at(me), tok)), status: 401, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "Bearer use of a bound token", c: c, req: dpopReq{method: "GET", path: me, scheme: "Bearer", token: tok}, status: 401, code: "invalid_dpop_proof"},
		dpopCase{name: "Bearer use of a bound token, with a valid proof", c: c, req: dpopReq{method: "GET", path: me, scheme: "Bearer", token: tok, proofs: []string{p()}}, status: 401, code: "invalid_dpop_proof"},
		dpopCase{name: "an unbound token with the DPoP scheme and a valid proof", c: other, req: dpopReq{method: "GET", path: me, scheme: "DPoP", token: carol.AccessToken, proofs: []string{k.proof(t, "GET", at(me), carol.AccessToken)}}, status: 401, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "control: the unbound token as Bearer", c: other, req: dpopReq{method: "GET", path: me, scheme: "Bearer", token: carol.AccessToken}, status: 200},
		dpopCase{name: "verify: a bound token without a proof", c: c, req: dpopReq{method: "POST", path: verify, body: map[string]string{"token": tok}}, status: 401, code: "invalid_dpop_proof"},
		dpopCase{name: "verify: a bound token with another key's proof", c: c, req: dpopReq{method: "POST", path: verify, body: map[string]string{"token": tok}, proofs: []string{thief.proof(t, "POST", at(verify), tok)}}, status: 401, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "control: verify a bound token with its key's proof", c: c, req: dpopReq{method: "POST", path: verify, body: map[string]string{"token": tok}, proofs: []string{k.proof(t, "POST", at(verify), tok)}}, status: 200, why: errProofOK},
		dpopCase{name: "control: the token survived all of the above", c: c, req: get(p()), status: 200, why: errProofOK},
	)

	// Login: RFC 9449 §5 answers a bad proof at the token endpoint 400.
	dev := s.client(t, clientOpts{Device: "desk-1"})
	creds := map[string]string{"username": "dave", "password": "dave-password"}
	post := func(path string, body any, proofs ...string) dpopReq {
		return dpopReq{method: "POST", path: path, body: body, proofs: proofs}
	}
	lp := k.proof(t, "POST", at(login), "")
	x.run(
		dpopCase{name: "login: garbage", c: dev, req: post(login, creds, "garbage"), status: 400, code: "invalid_dpop_proof", why: dpop.ErrMalformed},
		dpopCase{name: "login: htm GET", c: dev, req: post(login, creds, k.proof(t, "GET", at(login), "")), status: 400, code: "invalid_dpop_proof", why: dpop.ErrMethod},
		dpopCase{name: "login: htu of refresh", c: dev, req: post(login, creds, k.proof(t, "POST", at(refresh), "")), status: 400, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "login: stale iat", c: dev, req: post(login, creds, k.proof(t, "POST", at(login), "", claim("iat", now-31))), status: 400, code: "invalid_dpop_proof", why: dpop.ErrIssuedAt},
		dpopCase{name: "login: jwk with d", c: dev, req: post(login, creds, k.proof(t, "POST", at(login), "", hdr("jwk", jwkOf(t, k.priv)))), status: 400, code: "invalid_dpop_proof", why: dpop.ErrKey},
		dpopCase{name: "login: two DPoP headers", c: dev, req: post(login, creds, lp, k.proof(t, "POST", at(login), "")), status: 400, code: "invalid_dpop_proof", why: dpop.ErrMissingProof},
		dpopCase{name: "control: login with a proof", c: dev, req: post(login, creds, lp), status: 200, why: errProofOK},
		dpopCase{name: "login: the same proof again", c: dev, req: post(login, creds, lp), status: 400, code: "invalid_dpop_proof", why: dpop.ErrReplay},
	)

	// Refresh (rotation on): only with a proof by the session's key.
	rt := map[string]string{"refresh_token": la.RefreshToken}
	rp := k.proof(t, "POST", at(refresh), "")
	rs := x.run(
		dpopCase{name: "refresh: a bound session without a proof", c: c, req: post(refresh, rt), status: 400, code: "invalid_dpop_proof"},
		dpopCase{name: "refresh: another key", c: c, req: post(refresh, rt, thief.proof(t, "POST", at(refresh), "")), status: 400, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "refresh: htu of login", c: c, req: post(refresh, rt, k.proof(t, "POST", at(login), "")), status: 400, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "refresh: garbage", c: c, req: post(refresh, rt, "garbage"), status: 400, code: "invalid_dpop_proof", why: dpop.ErrMalformed},
		dpopCase{name: "refresh: a proof cannot bind an unbound session", c: other, req: post(refresh, map[string]string{"refresh_token": carol.RefreshToken}, k.proof(t, "POST", at(refresh), "")), status: 400, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "control: refresh with the session's key", c: c, req: post(refresh, rt, rp), status: 200, why: errProofOK},
		dpopCase{name: "refresh: the same proof again (old refresh token, within the reuse grace)", c: c, req: post(refresh, rt, rp), status: 400, code: "invalid_dpop_proof", why: dpop.ErrReplay},
	)
	body := rs[5].Object(t)
	assert.Equal(t, "DPoP", body["token_type"])
	tok2, _ := body["access_token"].(string)
	require.NotEmpty(t, body["refresh_token"], "rotation on")
	x.run(
		dpopCase{name: "refreshed token: Bearer", c: c, req: dpopReq{method: "GET", path: me, scheme: "Bearer", token: tok2}, status: 401, code: "invalid_dpop_proof"},
		dpopCase{name: "refreshed token: the thief's proof", c: c, req: dpopReq{method: "GET", path: me, scheme: "DPoP", token: tok2, proofs: []string{thief.proof(t, "GET", at(me), tok2)}}, status: 401, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "control: refreshed token with its key", c: c, req: dpopReq{method: "GET", path: me, scheme: "DPoP", token: tok2, proofs: []string{k.proof(t, "GET", at(me), tok2)}}, status: 200, why: errProofOK},
	)

	// The session list shows the binding.
	r := c.dpop(t, dpopReq{method: "GET", path: "/auth/sessions", scheme: "DPoP", token: tok2, proofs: []string{k.proof(t, "GET", at("/auth/sessions"), tok2)}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"dpop_jkt":"`+k.jkt+`"`)

	// A thief holding the token cannot log its owner out either.
	bearer := func(path string) dpopReq { return dpopReq{method: "POST", path: path, scheme: "Bearer", token: tok2} }
	withProof := func(path string, key dpopKey) dpopReq {
		return dpopReq{method: "POST", path: path, scheme: "DPoP", token: tok2, proofs: []string{key.proof(t, "POST", at(path), tok2)}}
	}
	x.run(
		dpopCase{name: "logout: Bearer use of a bound token", c: c, req: bearer("/auth/logout"), status: 401, code: "invalid_dpop_proof"},
		dpopCase{name: "logout/all: Bearer use of a bound token", c: c, req: bearer("/auth/logout/all"), status: 401, code: "invalid_dpop_proof"},
		dpopCase{name: "logout/others: the thief's proof", c: c, req: withProof("/auth/logout/others", thief), status: 401, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "logout: the thief's proof", c: c, req: withProof("/auth/logout", thief), status: 401, code: "invalid_dpop_proof", why: errProofOK},
		dpopCase{name: "control: logout with the session's key", c: c, req: withProof("/auth/logout", k), status: 204, why: errProofOK},
		dpopCase{name: "after the logout: a valid proof for the token", c: c, req: dpopReq{method: "GET", path: me, scheme: "DPoP", token: tok2, proofs: []string{k.proof(t, "GET", at(me), tok2)}}, status: 401, code: "token_revoked", why: errProofOK},
	)
}

func attackDPoPRequired(t *testing.T) {
	const public = "https://auth.example.com"
	s := start(t, merge(newForger(t).env(), map[string]string{
		"JWTAUTH_DEMO_USERS": dpopUsers,
		"JWTAUTH_DPOP":       "required",
		"JWTAUTH_PUBLIC_URL": public + "/",
	}))
	mirror, err := dpop.New(dpop.Config{PublicURL: public})
	require.NoError(t, err)
	x := &dpopRun{t: t, mirror: mirror, public: public}
	t.Cleanup(func() { t.Logf("DPoP attack cases (required): %d", x.n) })
	c := s.client(t, clientOpts{Device: "laptop-1"})
	k := newDPoPKey(t, false)
	creds := map[string]string{"username": "alice", "password": "alice-password"}
	post := func(path string, body any, proofs ...string) dpopReq {
		return dpopReq{method: "POST", path: path, body: body, proofs: proofs, host: "auth.example.com"}
	}

	rs := x.run(
		dpopCase{name: "required: login without a proof", c: c, req: post("/auth/login", creds), status: 400, code: "invalid_dpop_proof", why: dpop.ErrMissingProof},
		dpopCase{name: "required: browser login (cookies cannot carry proofs)", c: c, req: post("/auth/browser/login", creds, k.proof(t, "POST", public+"/auth/browser/login", "")), status: 400, code: "invalid_dpop_proof"},
		dpopCase{name: "required: htu of the address the server listens on, not JWTAUTH_PUBLIC_URL", c: c, req: post("/auth/login", creds, k.proof(t, "POST", s.URL+"/auth/login", "")), status: 400, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "control: login with a proof for the public URL", c: c, req: post("/auth/login", creds, k.proof(t, "POST", public+"/auth/login", "")), status: 200, why: errProofOK},
	)
	var lr loginResp
	require.NoError(t, json.Unmarshal(rs[3].Body, &lr))
	require.Equal(t, "DPoP", lr.TokenType)
	tok := lr.AccessToken
	get := func(host string, proofs ...string) dpopReq {
		return dpopReq{method: "GET", path: "/auth/me", scheme: "DPoP", token: tok, proofs: proofs, host: host}
	}
	x.run(
		dpopCase{name: "required: Bearer", c: c, req: dpopReq{method: "GET", path: "/auth/me", scheme: "Bearer", token: tok}, status: 401, code: "invalid_dpop_proof"},
		dpopCase{name: "required: a Host header naming the proof's host does not replace JWTAUTH_PUBLIC_URL", c: c, req: get("api.example.com", k.proof(t, "GET", "http://api.example.com/auth/me", tok)), status: 401, code: "invalid_dpop_proof", why: dpop.ErrURL},
		dpopCase{name: "required: refresh without a proof", c: c, req: post("/auth/refresh", map[string]string{"refresh_token": lr.RefreshToken}), status: 400, code: "invalid_dpop_proof", why: dpop.ErrMissingProof},
		dpopCase{name: "control: a proof for the public URL", c: c, req: get("", k.proof(t, "GET", public+"/auth/me", tok)), status: 200, why: errProofOK},
	)
}

func attackDPoPNonce(t *testing.T) {
	f := newForger(t)
	s := start(t, merge(f.env(), map[string]string{
		"JWTAUTH_DEMO_USERS": dpopUsers,
		"JWTAUTH_DPOP":       "allowed",
		"JWTAUTH_DPOP_NONCE": "true",
	}))
	key := nonceKey(t, f.signKey)
	mirror, err := dpop.New(dpop.Config{NonceKey: key})
	require.NoError(t, err)
	x := &dpopRun{t: t, mirror: mirror}
	t.Cleanup(func() { t.Logf("DPoP attack cases (nonce): %d", x.n) })
	// Nonces made in process: by another instance (same signing key), by
	// a deployment with another key, and one too old.
	sibling, err := dpop.New(dpop.Config{NonceKey: key})
	require.NoError(t, err)
	stranger, err := dpop.New(dpop.Config{NonceKey: []byte(rand.Text() + rand.Text())})
	require.NoError(t, err)
	old, err := dpop.New(dpop.Config{NonceKey: key, Now: func() time.Time { return time.Now().Add(-dpop.DefaultNonceLifetime - time.Minute) }})
	require.NoError(t, err)

	c := s.client(t, clientOpts{Device: "laptop-1"})
	k := newDPoPKey(t, true)
	at := func(path string) string { return s.URL + path }
	creds := map[string]string{"username": "alice", "password": "alice-password"}
	login := func(proof string) dpopReq {
		return dpopReq{method: "POST", path: "/auth/login", body: creds, proofs: []string{proof}}
	}
	rs := x.run(dpopCase{name: "nonce: login without a nonce", c: c, req: login(k.proof(t, "POST", at("/auth/login"), "")), status: 400, code: "use_dpop_nonce", why: dpop.ErrUseNonce, nonce: true})
	n := rs[0].Header.Get("DPoP-Nonce")
	rs = x.run(
		dpopCase{name: "nonce: login with another deployment's nonce", c: c, req: login(k.proof(t, "POST", at("/auth/login"), "", claim("nonce", stranger.Nonce()))), status: 400, code: "use_dpop_nonce", why: dpop.ErrUseNonce, nonce: true},
		dpopCase{name: "control: login with the nonce", c: c, req: login(k.proof(t, "POST", at("/auth/login"), "", claim("nonce", n))), status: 200, why: errProofOK, nonce: true},
	)
	var lr loginResp
	require.NoError(t, json.Unmarshal(rs[1].Body, &lr))
	require.Equal(t, "DPoP", lr.TokenType)
	tok := lr.AccessToken
	get := func(nonce string) dpopReq {
		var muts []mutation
		if nonce != "" {
			muts = append(muts, claim("nonce", nonce))
		}
		return dpopReq{method: "GET", path: "/auth/me", scheme: "DPoP", token: tok, proofs: []string{k.proof(t, "GET", at("/auth/me"), tok, muts...)}}
	}
	x.run(
		dpopCase{name: "nonce: a resource request without a nonce", c: c, req: get(""), status: 401, code: "use_dpop_nonce", why: dpop.ErrUseNonce, nonce: true},
		dpopCase{name: "nonce: another deployment's nonce", c: c, req: get(stranger.Nonce()), status: 401, code: "use_dpop_nonce", why: dpop.ErrUseNonce, nonce: true},
		dpopCase{name: "nonce: a nonce past its lifetime", c: c, req: get(old.Nonce()), status: 401, code: "use_dpop_nonce", why: dpop.ErrUseNonce, nonce: true},
		dpopCase{name: "nonce: a nonce with its MAC altered", c: c, req: get(n[:31] + string("AB"[boolInt(n[31] == 'A')])), status: 401, code: "use_dpop_nonce", why: dpop.ErrUseNonce, nonce: true},
		dpopCase{name: "control: the login's nonce", c: c, req: get(n), status: 200, why: errProofOK},
		dpopCase{name: "control: a nonce of another instance with the signing key", c: c, req: get(sibling.Nonce()), status: 200, why: errProofOK},
	)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
