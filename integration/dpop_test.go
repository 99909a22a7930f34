package integration

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/dpop"
)

// Helpers of the DPoP tests (RFC 9449) against the reference server:
// a client key that signs proofs, well-formed or not, with golang-jwt,
// and requests that carry them.

// dpopKey is a client's DPoP key pair.
type dpopKey struct {
	priv   crypto.Signer
	method jwt.SigningMethod
	jwk    map[string]any // the public key as a JWK (go-jose)
	jkt    string         // its RFC 7638 thumbprint
}

func newDPoPKey(t testing.TB, ed bool) dpopKey {
	t.Helper()
	k := dpopKey{method: jwt.SigningMethodES256}
	if ed {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		k.priv, k.method = priv, jwt.SigningMethodEdDSA
	} else {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		k.priv = priv
	}
	k.jwk = jwkOf(t, k.priv.Public())
	var err error
	k.jkt, err = dpop.Thumbprint(k.priv.Public())
	require.NoError(t, err)
	return k
}

// jwkOf returns key (public or private) as a JWK object, encoded by go-jose.
func jwkOf(t testing.TB, key any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(jose.JSONWebKey{Key: key})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// proofParts are the header and claims of a proof before signing; a
// mutation changes them to make a bad proof.
type proofParts struct {
	header map[string]any
	claims jwt.MapClaims
	method jwt.SigningMethod
	key    any // signing key
}

// mutation changes a proof before it is signed.
type mutation func(p *proofParts)

// claim sets (v != nil) or deletes a claim.
func claim(name string, v any) mutation {
	return func(p *proofParts) {
		if v == nil {
			delete(p.claims, name)
			return
		}
		p.claims[name] = v
	}
}

// hdr sets (v != nil) or deletes a header parameter.
func hdr(name string, v any) mutation {
	return func(p *proofParts) {
		if v == nil {
			delete(p.header, name)
			return
		}
		p.header[name] = v
	}
}

// proof signs a proof by k for method and url (the htu), with ath for
// token when not "", then applies muts.
func (k dpopKey) proof(t testing.TB, method, url, token string, muts ...mutation) string {
	t.Helper()
	p := proofParts{
		header: map[string]any{"typ": "dpop+jwt", "jwk": k.jwk},
		claims: jwt.MapClaims{
			"jti": rand.Text(),
			"htm": method,
			"htu": url,
			"iat": time.Now().Unix(),
		},
		method: k.method,
		key:    k.priv,
	}
	if token != "" {
		p.claims["ath"] = dpop.AccessTokenHash(token)
	}
	for _, m := range muts {
		m(&p)
	}
	tok := jwt.NewWithClaims(p.method, p.claims)
	for name, v := range p.header {
		tok.Header[name] = v
	}
	s, err := tok.SignedString(p.key)
	require.NoError(t, err)
	return s
}

// dpopReq is a request with DPoP headers. Proofs are sent as DPoP
// headers (none when empty, several when more); scheme "DPoP" or
// "Bearer" carries token in the Authorization header; host, when set,
// is the Host header.
type dpopReq struct {
	method, path string
	scheme       string
	token        string
	proofs       []string
	body         any
	host         string
}

// dpop sends r and checks what every answer of the contract must satisfy
// except docs/openapi.yaml, which does not document DPoP yet: never a
// 5xx, no-store caching, an empty 204 or JSON, an error code and description, and on
// 401 a Bearer challenge or, for a DPoP error, the RFC 9449 §7.1 DPoP
// challenge naming the error and the accepted algorithms.
func (c *client) dpop(t *testing.T, r dpopReq) resp {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		raw, err := json.Marshal(r.body)
		require.NoError(t, err)
		body = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, c.s.URL+r.path, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.ua)
	if c.device != "" {
		req.Header.Set("X-Device-ID", c.device)
	}
	if r.token != "" {
		req.Header.Set("Authorization", r.scheme+" "+r.token)
	}
	if len(r.proofs) > 0 {
		req.Header["Dpop"] = r.proofs
	}
	if r.host != "" {
		req.Host = r.host
	}
	hr, err := c.hc.Do(req)
	require.NoError(t, err, "%s %s", r.method, r.path)
	defer hr.Body.Close()
	data, err := io.ReadAll(hr.Body)
	require.NoError(t, err)
	res := resp{Status: hr.StatusCode, Header: hr.Header, Body: data}

	what := r.method + " " + r.path + " → " + string(res.Body)
	require.Less(t, res.Status, 500, "no 5xx: %s", what)
	checkContract(t, r.method, r.path, res)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), what)
	if res.Status == http.StatusNoContent {
		assert.Empty(t, res.Body, what)
		return res
	}
	require.Equal(t, "application/json", res.Header.Get("Content-Type"), what)
	require.True(t, json.Valid(res.Body), "JSON body: %s", what)
	var m map[string]any
	_ = json.Unmarshal(res.Body, &m) // nil for an array
	if res.Status == http.StatusOK {
		for _, k := range []string{"access_token", "refresh_token"} {
			if s, ok := m[k].(string); ok {
				c.s.remember(s)
			}
		}
	}
	code, _ := m["error"].(string)
	if res.Status >= 400 {
		assert.NotEmpty(t, code, what)
		if _, verify := m["valid"]; !verify {
			assert.NotEmpty(t, m["error_description"], what)
		}
	}
	if res.Status == http.StatusUnauthorized {
		ch := res.Header.Get("WWW-Authenticate")
		if code == "invalid_dpop_proof" || code == "use_dpop_nonce" {
			assert.Regexp(t, `^DPoP error="`+code+`", error_description="[^"\\]+", algs="ES256 EdDSA"$`, ch, what)
		} else if strings.EqualFold(r.scheme, "DPoP") {
			// A token error of a DPoP request: a DPoP challenge (RFC 9449
			// §7.1), then the Bearer one of the contract.
			chs := res.Header.Values("WWW-Authenticate")
			require.Len(t, chs, 2, what)
			assert.Regexp(t, `^DPoP error="invalid_token", error_description="[^"\\]+", algs="ES256 EdDSA"$`, chs[0], what)
			assert.True(t, strings.HasPrefix(chs[1], "Bearer "), "challenge %q: %s", chs[1], what)
		} else {
			assert.True(t, strings.HasPrefix(ch, "Bearer "), "challenge %q: %s", ch, what)
		}
	}
	return res
}

// dpopLogin logs user in (password user+"-password") with proof and
// returns the 200 body, whose token_type must be DPoP.
func (c *client) dpopLogin(t *testing.T, user, proof string) loginResp {
	t.Helper()
	r := c.dpop(t, dpopReq{method: http.MethodPost, path: "/auth/login", proofs: []string{proof},
		body: map[string]string{"username": user, "password": user + "-password"}})
	require.Equal(t, http.StatusOK, r.Status, "login %s: %s", user, r.Body)
	var lr loginResp
	require.NoError(t, json.Unmarshal(r.Body, &lr))
	require.Equal(t, "DPoP", lr.TokenType)
	require.NotEmpty(t, lr.AccessToken)
	return lr
}

// dpopMe calls GET /auth/me with "Authorization: DPoP token" and proofs.
func (c *client) dpopMe(t *testing.T, token string, proofs ...string) resp {
	t.Helper()
	return c.dpop(t, dpopReq{method: http.MethodGet, path: "/auth/me", scheme: "DPoP", token: token, proofs: proofs})
}
