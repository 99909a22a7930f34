package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

// The example proof of RFC 9449 §4.2 (Figure 2) and the thumbprint of its
// key that §6.1 (Figure 9) publishes, computed as RFC 7638 §3 says.
const (
	rfcProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19" +
		".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ" +
		".2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
	rfcJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	rfcIAT = 1562262616
)

// RFC 7638 §3.1: an RSA key and its SHA-256 thumbprint.
const (
	rfc7638Key = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	rfc7638JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

var (
	t0     = time.Unix(1_800_000_000, 0)
	target = "https://api.example.com/v1/items"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func newValidator(t testing.TB, cfg Config) *Validator {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	v, err := New(cfg)
	require.NoError(t, err)
	return v
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func edKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

// publicJWK returns a key's public JWK as a JSON object.
func publicJWK(t testing.TB, key crypto.PublicKey) map[string]any {
	t.Helper()
	raw, err := json.Marshal(jose.JSONWebKey{Key: key})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// mint signs a proof with golang-jwt from a header and claims that a test
// may change freely.
func mint(t testing.TB, method jwt.SigningMethod, key any, hdr, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// goodParts returns the header and claims of a valid ES256 proof for
// method and target at t0.
func goodParts(t testing.TB, key *ecdsa.PrivateKey) (map[string]any, map[string]any) {
	t.Helper()
	return map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, &key.PublicKey)},
		map[string]any{"jti": "jti-1", "htm": "GET", "htu": target, "iat": t0.Unix()}
}

func TestRFC9449ExampleProof(t *testing.T) {
	v := newValidator(t, Config{Now: func() time.Time { return time.Unix(rfcIAT+1, 0) }})
	p, err := v.Validate(rfcProof, "POST", mustURL(t, "https://server.example.com/token"), "")
	require.NoError(t, err)
	assert.Equal(t, rfcJKT, p.JKT)
	assert.Equal(t, "ES256", p.Algorithm)
	assert.Equal(t, "-BwC3ESc6acc2lTc", p.JTI)
	assert.Equal(t, time.Unix(rfcIAT, 0), p.IssuedAt)

	// The same proof again is a replay; at the RFC's own date plus the
	// window it is stale.
	_, err = v.Validate(rfcProof, "POST", mustURL(t, "https://server.example.com/token"), "")
	assert.ErrorIs(t, err, ErrReplay)
	late := newValidator(t, Config{Now: func() time.Time { return time.Unix(rfcIAT, 0).Add(DefaultMaxAge + time.Second) }})
	_, err = late.Validate(rfcProof, "POST", mustURL(t, "https://server.example.com/token"), "")
	assert.ErrorIs(t, err, ErrIssuedAt)
}

func TestRFC7638Thumbprint(t *testing.T) {
	var jwk jose.JSONWebKey
	require.NoError(t, jwk.UnmarshalJSON([]byte(rfc7638Key)))
	got, err := Thumbprint(jwk.Key)
	require.NoError(t, err)
	assert.Equal(t, rfc7638JKT, got)
}

func TestAccessTokenHash(t *testing.T) {
	// RFC 9449 §7.1, Figure 12: the access token and the ath of its proof.
	assert.Equal(t, "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo", AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"))
}

func TestValidateAccepts(t *testing.T) {
	key := ecKey(t)
	jkt, err := Thumbprint(&key.PublicKey)
	require.NoError(t, err)
	cases := []struct {
		name   string
		htu    string
		target string
		change func(h, c map[string]any)
		token  string
	}{
		{name: "exact", htu: target, target: target},
		{name: "query and fragment ignored", htu: target + "?a=1#f", target: target + "?b=2"},
		{name: "scheme and host case", htu: "HTTPS://API.Example.COM/v1/items", target: target},
		{name: "default port", htu: "https://api.example.com:443/v1/items", target: target},
		{name: "default port on http", htu: "http://api.example.com:80/", target: "http://api.example.com"},
		{name: "empty path is slash", htu: "https://api.example.com", target: "https://api.example.com/"},
		{name: "unreserved percent-encoding", htu: "https://api.example.com/v1/%69tems", target: target},
		{name: "percent-encoding case", htu: "https://api.example.com/a%2fb", target: "https://api.example.com/a%2Fb"},
		{name: "dot segments", htu: "https://api.example.com/v1/x/../items", target: target},
		{name: "iat at the edge of max age", htu: target, target: target, change: func(_, c map[string]any) { c["iat"] = t0.Add(-DefaultMaxAge).Unix() }},
		{name: "iat within skew", htu: target, target: target, change: func(_, c map[string]any) { c["iat"] = t0.Add(DefaultSkew).Unix() }},
		{name: "ath for the token", htu: target, target: target, token: "tok", change: func(_, c map[string]any) { c["ath"] = AccessTokenHash("tok") }},
		{name: "fractional iat", htu: target, target: target, change: func(_, c map[string]any) { c["iat"] = float64(t0.Unix()) + 0.5 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t, Config{})
			h, c := goodParts(t, key)
			c["htu"] = tc.htu
			if tc.change != nil {
				tc.change(h, c)
			}
			p, err := v.Validate(mint(t, jwt.SigningMethodES256, key, h, c), "GET", mustURL(t, tc.target), tc.token)
			require.NoError(t, err)
			assert.Equal(t, jkt, p.JKT)
		})
	}
}

func TestValidateRejects(t *testing.T) {
	key, other := ecKey(t), ecKey(t)
	ed := edKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	privJWK := func() map[string]any {
		raw, err := json.Marshal(jose.JSONWebKey{Key: key})
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		return m
	}
	es := func(change func(h, c map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string {
			h, c := goodParts(t, key)
			if change != nil {
				change(h, c)
			}
			return mint(t, jwt.SigningMethodES256, key, h, c)
		}
	}
	jwt.RegisterSigningMethod("none", func() jwt.SigningMethod { return jwt.SigningMethodNone })
	cases := []struct {
		name    string
		proof   func(t *testing.T) string
		method  string
		target  string
		token   string
		wantErr error
	}{
		{name: "empty", proof: func(*testing.T) string { return "" }, wantErr: ErrMissingProof},
		{name: "oversize", proof: es(func(_, c map[string]any) { c["pad"] = strings.Repeat("x", DefaultMaxProofSize) }), wantErr: ErrTooLarge},
		{name: "two parts", proof: func(*testing.T) string { return "a.b" }, wantErr: ErrMalformed},
		{name: "four parts", proof: func(t *testing.T) string { return es(nil)(t) + ".x" }, wantErr: ErrMalformed},
		{name: "header not base64url", proof: func(*testing.T) string { return "!!.e30.AA" }, wantErr: ErrMalformed},
		{name: "header not an object", proof: func(*testing.T) string { return "WzFd.e30.AA" }, wantErr: ErrMalformed},
		{name: "typ JWT", proof: es(func(h, _ map[string]any) { h["typ"] = "JWT" }), wantErr: ErrType},
		{name: "typ missing", proof: es(func(h, _ map[string]any) { delete(h, "typ") }), wantErr: ErrType},
		{name: "typ case", proof: es(func(h, _ map[string]any) { h["typ"] = "DPoP+JWT" }), wantErr: ErrType},
		{name: "alg none", proof: func(t *testing.T) string {
			h, c := goodParts(t, key)
			return mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, h, c)
		}, wantErr: ErrAlgorithm},
		{name: "alg HS256", proof: func(t *testing.T) string {
			h, c := goodParts(t, key)
			return mint(t, jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"), h, c)
		}, wantErr: ErrAlgorithm},
		{name: "alg HS256 with an oct jwk", proof: func(t *testing.T) string {
			_, c := goodParts(t, key)
			h := map[string]any{"typ": "dpop+jwt", "jwk": map[string]any{"kty": "oct", "k": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}}
			return mint(t, jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"), h, c)
		}, wantErr: ErrAlgorithm},
		{name: "RS256 not configured", proof: func(t *testing.T) string {
			_, c := goodParts(t, key)
			h := map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, &rsaKey.PublicKey)}
			return mint(t, jwt.SigningMethodRS256, rsaKey, h, c)
		}, wantErr: ErrAlgorithm},
		{name: "jwk missing", proof: es(func(h, _ map[string]any) { delete(h, "jwk") }), wantErr: ErrKey},
		{name: "jwk not an object", proof: es(func(h, _ map[string]any) { h["jwk"] = "key" }), wantErr: ErrKey},
		{name: "jwk with private key", proof: es(func(h, _ map[string]any) { h["jwk"] = privJWK() }), wantErr: ErrKey},
		{name: "jwk with a stray d", proof: es(func(h, _ map[string]any) { h["jwk"].(map[string]any)["d"] = "AA" }), wantErr: ErrKey},
		{name: "jwk with a stray p", proof: es(func(h, _ map[string]any) { h["jwk"].(map[string]any)["p"] = "AA" }), wantErr: ErrKey},
		{name: "jwk with a symmetric k", proof: es(func(h, _ map[string]any) { h["jwk"].(map[string]any)["k"] = "AA" }), wantErr: ErrKey},
		{name: "jwk point not on the curve", proof: es(func(h, _ map[string]any) { h["jwk"].(map[string]any)["x"] = publicJWK(t, &other.PublicKey)["x"] }), wantErr: ErrKey},
		{name: "jwk of another curve type", proof: func(t *testing.T) string {
			_, c := goodParts(t, key)
			return mint(t, jwt.SigningMethodEdDSA, ed, map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, &key.PublicKey)}, c)
		}, wantErr: ErrKey},
		{name: "jwk of another key", proof: es(func(h, _ map[string]any) { h["jwk"] = publicJWK(t, &other.PublicKey) }), wantErr: ErrSignature},
		{name: "signature altered", proof: func(t *testing.T) string {
			p := es(nil)(t)
			i := strings.LastIndexByte(p, '.') + 5
			c := byte('A')
			if p[i] == 'A' {
				c = 'B'
			}
			return p[:i] + string(c) + p[i+1:]
		}, wantErr: ErrSignature},
		{name: "claims altered", proof: func(t *testing.T) string {
			p := es(nil)(t)
			h, _, _ := strings.Cut(p, ".")
			_, s, _ := strings.Cut(p[len(h)+1:], ".")
			_, c := goodParts(t, key)
			c["htm"] = "POST"
			body, err := json.Marshal(c)
			require.NoError(t, err)
			return h + "." + b64.EncodeToString(body) + "." + s
		}, method: "POST", wantErr: ErrSignature},
		{name: "crit header", proof: es(func(h, _ map[string]any) { h["crit"] = []string{"exp"} }), wantErr: ErrMalformed},
		{name: "claims not an object", proof: func(t *testing.T) string {
			h, _ := goodParts(t, key)
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{})
			for k, v := range h {
				tok.Header[k] = v
			}
			ss, err := tok.SigningString()
			require.NoError(t, err)
			hdr, _, _ := strings.Cut(ss, ".")
			ss = hdr + "." + b64.EncodeToString([]byte("[1]"))
			sig, err := jwt.SigningMethodES256.Sign(ss, key)
			require.NoError(t, err)
			return ss + "." + b64.EncodeToString(sig)
		}, wantErr: ErrMalformed},
		{name: "jti missing", proof: es(func(_, c map[string]any) { delete(c, "jti") }), wantErr: ErrMissingClaim},
		{name: "jti empty", proof: es(func(_, c map[string]any) { c["jti"] = "" }), wantErr: ErrMissingClaim},
		{name: "htm missing", proof: es(func(_, c map[string]any) { delete(c, "htm") }), wantErr: ErrMissingClaim},
		{name: "htu missing", proof: es(func(_, c map[string]any) { delete(c, "htu") }), wantErr: ErrMissingClaim},
		{name: "iat missing", proof: es(func(_, c map[string]any) { delete(c, "iat") }), wantErr: ErrMissingClaim},
		{name: "iat a string", proof: es(func(_, c map[string]any) { c["iat"] = "1800000000" }), wantErr: ErrMalformed},
		{name: "jti a number", proof: es(func(_, c map[string]any) { c["jti"] = 7 }), wantErr: ErrMalformed},
		{name: "wrong htm", proof: es(nil), method: "POST", wantErr: ErrMethod},
		{name: "htm case", proof: es(func(_, c map[string]any) { c["htm"] = "get" }), wantErr: ErrMethod},
		{name: "wrong htu path", proof: es(nil), target: "https://api.example.com/v1/other", wantErr: ErrURL},
		{name: "wrong htu host", proof: es(nil), target: "https://evil.example.com/v1/items", wantErr: ErrURL},
		{name: "wrong htu scheme", proof: es(nil), target: "http://api.example.com/v1/items", wantErr: ErrURL},
		{name: "wrong htu port", proof: es(nil), target: "https://api.example.com:8443/v1/items", wantErr: ErrURL},
		{name: "htu trailing slash", proof: es(nil), target: target + "/", wantErr: ErrURL},
		{name: "htu relative", proof: es(func(_, c map[string]any) { c["htu"] = "/v1/items" }), wantErr: ErrURL},
		{name: "htu other scheme", proof: es(func(_, c map[string]any) { c["htu"] = "ftp://api.example.com/v1/items" }), wantErr: ErrURL},
		{name: "htu with user", proof: es(func(_, c map[string]any) { c["htu"] = "https://u@api.example.com/v1/items" }), wantErr: ErrURL},
		{name: "htu bad escape", proof: es(func(_, c map[string]any) { c["htu"] = "https://api.example.com/v1/%zz" }), wantErr: ErrURL},
		{name: "stale iat", proof: es(func(_, c map[string]any) { c["iat"] = t0.Add(-DefaultMaxAge - time.Second).Unix() }), wantErr: ErrIssuedAt},
		{name: "future iat", proof: es(func(_, c map[string]any) { c["iat"] = t0.Add(DefaultSkew + time.Second).Unix() }), wantErr: ErrIssuedAt},
		{name: "ath missing", proof: es(nil), token: "tok", wantErr: ErrAccessTokenHash},
		{name: "ath of another token", proof: es(func(_, c map[string]any) { c["ath"] = AccessTokenHash("other") }), token: "tok", wantErr: ErrAccessTokenHash},
		{name: "ath padded", proof: es(func(_, c map[string]any) { c["ath"] = AccessTokenHash("tok") + "=" }), token: "tok", wantErr: ErrAccessTokenHash},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t, Config{})
			method, tgt := "GET", target
			if tc.method != "" {
				method = tc.method
			}
			if tc.target != "" {
				tgt = tc.target
			}
			_, err := v.Validate(tc.proof(t), method, mustURL(t, tgt), tc.token)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.ErrorIs(t, err, ErrInvalidProof)
			assert.Zero(t, v.replay.len(), "a rejected proof must not use a replay slot")
		})
	}
}

func TestReplay(t *testing.T) {
	key := ecKey(t)
	now := t0
	v := newValidator(t, Config{Now: func() time.Time { return now }})
	h, c := goodParts(t, key)
	proof := mint(t, jwt.SigningMethodES256, key, h, c)
	_, err := v.Validate(proof, "GET", mustURL(t, target), "")
	require.NoError(t, err)
	_, err = v.Validate(proof, "GET", mustURL(t, target), "")
	assert.ErrorIs(t, err, ErrReplay)

	// Another jti by the same key, and the same jti by another key, are
	// different proofs.
	c["jti"] = "jti-2"
	_, err = v.Validate(mint(t, jwt.SigningMethodES256, key, h, c), "GET", mustURL(t, target), "")
	require.NoError(t, err)
	k2 := ecKey(t)
	h2, c2 := goodParts(t, k2)
	_, err = v.Validate(mint(t, jwt.SigningMethodES256, k2, h2, c2), "GET", mustURL(t, target), "")
	require.NoError(t, err)

	// Until the proof is stale it stays remembered.
	now = t0.Add(DefaultMaxAge)
	_, err = v.Validate(proof, "GET", mustURL(t, target), "")
	assert.ErrorIs(t, err, ErrReplay)
	now = t0.Add(DefaultMaxAge + time.Second)
	_, err = v.Validate(proof, "GET", mustURL(t, target), "")
	assert.ErrorIs(t, err, ErrIssuedAt)
}

func TestReplayCacheBounded(t *testing.T) {
	key := ecKey(t)
	now := t0
	v := newValidator(t, Config{ReplayCacheSize: 3, Now: func() time.Time { return now }})
	proof := func(jti string) string {
		h, c := goodParts(t, key)
		c["jti"] = jti
		c["iat"] = now.Unix()
		return mint(t, jwt.SigningMethodES256, key, h, c)
	}
	for _, jti := range []string{"a", "b", "c"} {
		_, err := v.Validate(proof(jti), "GET", mustURL(t, target), "")
		require.NoError(t, err)
	}
	_, err := v.Validate(proof("d"), "GET", mustURL(t, target), "")
	require.ErrorIs(t, err, ErrCacheFull, "a full cache fails closed")
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	assert.NotErrorIs(t, err, ErrInvalidProof)

	// Once the first proofs are stale their slots are free again.
	now = t0.Add(DefaultMaxAge + DefaultSkew)
	_, err = v.Validate(proof("d"), "GET", mustURL(t, target), "")
	require.NoError(t, err)
	assert.Equal(t, 1, v.replay.len())
}

// TestConcurrentReplay sends one proof from many goroutines at once:
// exactly one is accepted, every other one is a replay.
func TestConcurrentReplay(t *testing.T) {
	const n = 64
	key := ecKey(t)
	v := newValidator(t, Config{})
	h, c := goodParts(t, key)
	proof := mint(t, jwt.SigningMethodES256, key, h, c)
	var (
		ok, replay atomic.Int32
		start      = make(chan struct{})
		wg         sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			<-start
			_, err := v.Validate(proof, "GET", mustURL(t, target), "")
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrReplay):
				replay.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), ok.Load())
	assert.Equal(t, int32(n-1), replay.Load())
}

// TestConcurrentDistinctProofs fills the cache from many goroutines with
// distinct proofs: every one fits exactly once and the bound holds.
func TestConcurrentDistinctProofs(t *testing.T) {
	const n, size = 64, 40
	key := ecKey(t)
	v := newValidator(t, Config{ReplayCacheSize: size})
	proofs := make([]string, n)
	for i := range proofs {
		h, c := goodParts(t, key)
		c["jti"] = string(rune('A' + i))
		proofs[i] = mint(t, jwt.SigningMethodES256, key, h, c)
	}
	var ok, full atomic.Int32
	var wg sync.WaitGroup
	for _, p := range proofs {
		wg.Go(func() {
			_, err := v.Validate(p, "GET", mustURL(t, target), "")
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrCacheFull):
				full.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(size), ok.Load())
	assert.Equal(t, int32(n-size), full.Load())
	assert.Equal(t, size, v.replay.len())
}

func TestEdDSA(t *testing.T) {
	key := edKey(t)
	v := newValidator(t, Config{})
	c := map[string]any{"jti": "e", "htm": "GET", "htu": target, "iat": t0.Unix()}
	p, err := v.Validate(mint(t, jwt.SigningMethodEdDSA, key, map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, key.Public())}, c), "GET", mustURL(t, target), "")
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", p.Algorithm)
	want, err := Thumbprint(key.Public())
	require.NoError(t, err)
	assert.Equal(t, want, p.JKT)

	// The fully-specified name of the same algorithm (RFC 9864) is
	// accepted as EdDSA, and only with an Ed25519 key.
	c["jti"] = "g"
	p, err = v.Validate(mint(t, jwt.SigningMethodEdDSA, key, map[string]any{"alg": "Ed25519", "typ": "dpop+jwt", "jwk": publicJWK(t, key.Public())}, c), "GET", mustURL(t, target), "")
	require.NoError(t, err)
	assert.Equal(t, "Ed25519", p.Algorithm)
	ec := ecKey(t)
	_, err = v.Validate(mint(t, jwt.SigningMethodES256, ec, map[string]any{"alg": "Ed25519", "typ": "dpop+jwt", "jwk": publicJWK(t, &ec.PublicKey)}, c), "GET", mustURL(t, target), "")
	assert.ErrorIs(t, err, ErrKey)

	// A validator configured for ES256 only refuses it.
	es := newValidator(t, Config{Algorithms: []string{"ES256"}})
	c["jti"] = "f"
	_, err = es.Validate(mint(t, jwt.SigningMethodEdDSA, key, map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, key.Public())}, c), "GET", mustURL(t, target), "")
	assert.ErrorIs(t, err, ErrAlgorithm)
}

func TestNewRejectsConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Algorithms: []string{"none"}},
		{Algorithms: []string{"HS256"}},
		{Algorithms: []string{"ES256", "es256"}},
		{PublicURL: "ftp://x"},
		{PublicURL: "https://x/?q=1"},
		{PublicURL: "/relative"},
		{NonceKey: []byte("short")},
		{MaxAge: -time.Second},
	} {
		_, err := New(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestValidateRequest(t *testing.T) {
	key := ecKey(t)
	cases := []struct {
		name      string
		publicURL string
		reqURL    string
		tls       bool
		htu       string
		wantErr   error
	}{
		{name: "from the request", reqURL: "http://127.0.0.1:8080/auth/login?x=1", htu: "http://127.0.0.1:8080/auth/login"},
		{name: "tls request", reqURL: "https://api.example.com/auth/login", tls: true, htu: "https://api.example.com/auth/login"},
		{name: "proxy without public URL", reqURL: "http://10.0.0.5:8080/auth/login", htu: "https://api.example.com/auth/login", wantErr: ErrURL},
		{name: "public URL", publicURL: "https://api.example.com", reqURL: "http://10.0.0.5:8080/auth/login", htu: "https://api.example.com/auth/login"},
		{name: "public URL with prefix", publicURL: "https://example.com/jwt/", reqURL: "http://10.0.0.5:8080/auth/login", htu: "https://example.com/jwt/auth/login"},
		{name: "public URL with an escaped path", publicURL: "https://example.com/a%2Fb", reqURL: "http://10.0.0.5:8080/c%2Fd", htu: "https://example.com/a%2Fb/c%2Fd"},
		{name: "public URL refuses the inner URL", publicURL: "https://api.example.com", reqURL: "http://10.0.0.5:8080/auth/login", htu: "http://10.0.0.5:8080/auth/login", wantErr: ErrURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t, Config{PublicURL: tc.publicURL})
			r := httptest.NewRequest("POST", tc.reqURL, nil)
			if !tc.tls {
				r.TLS = nil
			}
			h, c := goodParts(t, key)
			c["htm"], c["htu"] = "POST", tc.htu
			r.Header.Set("DPoP", mint(t, jwt.SigningMethodES256, key, h, c))
			_, err := v.ValidateRequest(r, "")
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}

	v := newValidator(t, Config{})
	r := httptest.NewRequest("GET", target, nil)
	_, err := v.ValidateRequest(r, "")
	assert.ErrorIs(t, err, ErrMissingProof)
	r.Header.Add("DPoP", "a")
	r.Header.Add("DPoP", "b")
	_, err = v.ValidateRequest(r, "")
	assert.ErrorIs(t, err, ErrMissingProof, "two DPoP headers")
}

func TestNonces(t *testing.T) {
	key := ecKey(t)
	nonceKey := []byte("0123456789abcdef0123456789abcdef")
	now := t0
	clock := func() time.Time { return now }
	a := newValidator(t, Config{NonceKey: nonceKey, Now: clock})
	b := newValidator(t, Config{NonceKey: nonceKey, Now: clock})
	stranger := newValidator(t, Config{NonceKey: []byte("another key, also 32 bytes long!"), Now: clock})
	require.True(t, a.NoncesRequired())
	nonce := a.Nonce()
	require.Len(t, nonce, 32)

	n := 0
	proof := func(nonce any) string {
		h, c := goodParts(t, key)
		n++
		c["jti"] = string(rune('a' + n))
		c["iat"] = now.Unix()
		if nonce != nil {
			c["nonce"] = nonce
		}
		return mint(t, jwt.SigningMethodES256, key, h, c)
	}
	cases := []struct {
		name    string
		v       *Validator
		nonce   any
		at      time.Duration
		wantErr error
	}{
		{name: "issuing instance", v: a, nonce: nonce},
		{name: "other instance with the key", v: b, nonce: nonce},
		{name: "at the end of its lifetime", v: b, nonce: nonce, at: DefaultNonceLifetime},
		{name: "missing", v: a, wantErr: ErrUseNonce},
		{name: "empty", v: a, nonce: "", wantErr: ErrUseNonce},
		{name: "not a string", v: a, nonce: 5, wantErr: ErrMalformed},
		{name: "garbage", v: a, nonce: strings.Repeat("A", 32), wantErr: ErrUseNonce},
		{name: "altered", v: a, nonce: nonce[:31] + string("AB"[map[bool]int{true: 1}[nonce[31] == 'A']]), wantErr: ErrUseNonce},
		{name: "another key", v: stranger, nonce: nonce, wantErr: ErrUseNonce},
		{name: "expired", v: a, nonce: nonce, at: DefaultNonceLifetime + time.Second, wantErr: ErrUseNonce},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now = t0.Add(tc.at)
			_, err := tc.v.Validate(proof(tc.nonce), "GET", mustURL(t, target), "")
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
	_, err := a.Validate(proof(nil), "GET", mustURL(t, target), "")
	assert.NotErrorIs(t, err, ErrInvalidProof, "use_dpop_nonce is its own condition")

	// A nonce from the future (a clock ahead by more than the skew) is
	// refused too.
	now = t0.Add(time.Minute)
	ahead := a.Nonce()
	now = t0
	_, err = a.Validate(proof(ahead), "GET", mustURL(t, target), "")
	assert.ErrorIs(t, err, ErrUseNonce)
	assert.Empty(t, newValidator(t, Config{}).Nonce())
}

// FuzzValidate: no input panics, and every failure matches one of the
// package's sentinels.
func FuzzValidate(f *testing.F) {
	f.Add(rfcProof, "POST", "https://server.example.com/token")
	f.Add("a.b.c", "GET", "http://x/")
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.", "GET", "http://x/%")
	v, err := New(Config{Now: func() time.Time { return time.Unix(rfcIAT, 0) }, NonceKey: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, proof, method, rawURL string) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return
		}
		_, err = v.Validate(proof, method, u, "tok")
		if err != nil && !errors.Is(err, ErrInvalidProof) && !errors.Is(err, ErrUseNonce) && !errors.Is(err, ErrCacheFull) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

// TestTwoInstances states what holds across instances, whose replay
// caches are separate: the same proof sent to two instances is accepted
// by both, with or without nonces, for as long as its iat (and nonce) is
// in the window; each instance refuses a second use.
func TestTwoInstances(t *testing.T) {
	key := ecKey(t)
	nonceKey := []byte("0123456789abcdef0123456789abcdef")
	for _, withNonce := range []bool{false, true} {
		t.Run(fmt.Sprint("nonces=", withNonce), func(t *testing.T) {
			cfg := Config{}
			if withNonce {
				cfg.NonceKey = nonceKey
			}
			a, b := newValidator(t, cfg), newValidator(t, cfg)
			h, c := goodParts(t, key)
			if withNonce {
				c["nonce"] = a.Nonce()
			}
			proof := mint(t, jwt.SigningMethodES256, key, h, c)
			var ok atomic.Int32
			var wg sync.WaitGroup
			for _, v := range []*Validator{a, b, a, b} {
				wg.Go(func() {
					if _, err := v.Validate(proof, "GET", mustURL(t, target), ""); err == nil {
						ok.Add(1)
					} else {
						assert.ErrorIs(t, err, ErrReplay)
					}
				})
			}
			wg.Wait()
			assert.Equal(t, int32(2), ok.Load(), "one acceptance per instance")
		})
	}
}
