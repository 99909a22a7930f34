package jwtcodec_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/domain"
)

// now is the fixed clock of every test codec.
var now = time.Unix(1_700_000_000, 0)

func clock() time.Time { return now }

type testUser struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles,omitempty"`
}

// key returns n deterministic key bytes.
func key(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i*7 + 1)
	}
	return k
}

var edPrivate = ed25519.NewKeyFromSeed(key(ed25519.SeedSize))

func newCodec(tb testing.TB, cfg jwtcodec.Config) *jwtcodec.Codec {
	tb.Helper()
	if cfg.Now == nil {
		cfg.Now = clock
	}
	c, err := jwtcodec.New(cfg)
	require.NoError(tb, err)
	return c
}

func accessClaims() domain.Claims {
	return domain.Claims{
		Subject:    "user-1",
		ExpiresAt:  now.Add(10 * time.Minute),
		NotBefore:  now,
		IssuedAt:   now,
		ID:         "jti-1",
		Type:       domain.Access,
		SessionID:  "sid-1",
		Generation: "5f0c6a8e-3b8e-4d51-9a6e-0b7f3c2d1e4f",
		IP:         netip.MustParseAddr("203.0.113.7"),
		DeviceID:   "dev-1",
	}
}

func sign(tb testing.TB, c *jwtcodec.Codec, cl domain.Claims, user any) string {
	tb.Helper()
	tok, err := c.Sign(cl, user)
	require.NoError(tb, err)
	return tok
}

// rawToken signs header.payload, both given as JSON, with method and key.
func rawToken(tb testing.TB, header, payload string, method jwt.SigningMethod, k any) string {
	tb.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	sig, err := method.Sign(input, k)
	require.NoError(tb, err)
	return input + "." + enc.EncodeToString(sig)
}

// mapToken signs m with golang-jwt's own encoder.
func mapToken(tb testing.TB, method jwt.SigningMethod, k any, m jwt.MapClaims) string {
	tb.Helper()
	tok, err := jwt.NewWithClaims(method, m).SignedString(k)
	require.NoError(tb, err)
	return tok
}

// validMap is a minimal valid set of claims for mapToken.
func validMap() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "user-1",
		"exp": now.Add(time.Minute).Unix(),
		"iat": now.Unix(),
		"typ": "access",
		"sid": "sid-1",
		"gen": "gen-1",
	}
}

func with(m jwt.MapClaims, kv ...any) jwt.MapClaims {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func assertRejected(t *testing.T, err error) {
	t.Helper()
	assert.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid),
		"want ErrMalformed or ErrInvalid, got %v", err)
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cfg  jwtcodec.Config
	}{
		{name: "default HS256", cfg: jwtcodec.Config{Key: key(32)}},
		{name: "HS256", cfg: jwtcodec.Config{Method: "HS256", Key: key(32)}},
		{name: "HS384", cfg: jwtcodec.Config{Method: "HS384", Key: key(48)}},
		{name: "HS512", cfg: jwtcodec.Config{Method: "HS512", Key: key(64)}},
		{name: "EdDSA", cfg: jwtcodec.Config{Method: "EdDSA", EdPrivate: edPrivate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCodec(t, tt.cfg)
			in := testUser{Name: "alice", Roles: []string{"admin", "dev"}}
			tok := sign(t, c, accessClaims(), in)

			var out testUser
			got, err := c.Parse([]byte(tok), &out)
			require.NoError(t, err)
			assert.Equal(t, accessClaims(), got)
			assert.Equal(t, in, out)

			got, err = c.Parse([]byte(tok), nil)
			require.NoError(t, err)
			assert.Equal(t, accessClaims(), got)
		})
	}
}

func TestRoundTripAllFields(t *testing.T) {
	c := newCodec(t, jwtcodec.Config{Key: key(32), Issuer: "https://auth.example", Audience: []string{"api", "web"}})
	tests := []struct {
		name string
		in   domain.Claims
		user any
	}{
		{
			name: "refresh with counter and IPv6 zone",
			in: domain.Claims{
				Issuer: "https://auth.example", Audience: []string{"web"},
				Subject: "42", ExpiresAt: now.Add(720 * time.Hour), NotBefore: now.Add(-time.Second),
				IssuedAt: now, ID: "jti", Type: domain.Refresh, SessionID: "s", Generation: "g",
				IP: netip.MustParseAddr("fe80::1%eth0"), DeviceID: "d", RefreshCounter: 1<<64 - 1,
			},
		},
		{
			name: "config issuer and audience, no ip, no optional times",
			in: domain.Claims{
				Subject: "42", ExpiresAt: now.Add(time.Minute), Type: domain.Access, SessionID: "s", Generation: "g",
			},
			user: &testUser{Name: "bob"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, c, tt.in, tt.user)
			got, err := c.Parse([]byte(tok), nil)
			require.NoError(t, err)
			want := tt.in
			if want.Issuer == "" {
				want.Issuer, want.Audience = "https://auth.example", []string{"api", "web"}
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestSignWireFormat(t *testing.T) {
	c := newCodec(t, jwtcodec.Config{Key: key(32)})
	decode := func(seg string) string {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name   string
		claims domain.Claims
		user   any
		want   string
	}{
		{
			name:   "access with user",
			claims: accessClaims(),
			user:   testUser{Name: "alice"},
			want: `{"sub":"user-1","exp":1700000600,"nbf":1700000000,"iat":1700000000,"jti":"jti-1","typ":"access",` +
				`"sid":"sid-1","gen":"5f0c6a8e-3b8e-4d51-9a6e-0b7f3c2d1e4f","ip":"203.0.113.7","dev":"dev-1","usr":{"name":"alice"}}`,
		},
		{
			name: "refresh without ip or user",
			claims: domain.Claims{
				Subject: "user-1", ExpiresAt: now, Type: domain.Refresh, SessionID: "s", Generation: "g",
				DeviceID: "d", RefreshCounter: 3,
			},
			want: `{"sub":"user-1","exp":1700000000,"typ":"refresh","sid":"s","gen":"g","dev":"d","rfc":3}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := strings.Split(sign(t, c, tt.claims, tt.user), ".")
			require.Len(t, parts, 3)
			assert.Equal(t, `{"alg":"HS256","typ":"JWT"}`, decode(parts[0]))
			assert.Equal(t, tt.want, decode(parts[1]))
		})
	}
}

func TestSignRejects(t *testing.T) {
	c := newCodec(t, jwtcodec.Config{Key: key(32)})
	verifyOnly := newCodec(t, jwtcodec.Config{Method: "EdDSA", EdPublic: edPrivate.Public().(ed25519.PublicKey)})
	tests := []struct {
		name    string
		codec   *jwtcodec.Codec
		mutate  func(*domain.Claims)
		user    any
		wantErr error
	}{
		{name: "valid", codec: c, mutate: func(*domain.Claims) {}},
		{name: "no sub", codec: c, mutate: func(cl *domain.Claims) { cl.Subject = "" }, wantErr: domain.ErrInvalidArgument},
		{name: "no sid", codec: c, mutate: func(cl *domain.Claims) { cl.SessionID = "" }, wantErr: domain.ErrInvalidArgument},
		{name: "no gen", codec: c, mutate: func(cl *domain.Claims) { cl.Generation = "" }, wantErr: domain.ErrInvalidArgument},
		{name: "no exp", codec: c, mutate: func(cl *domain.Claims) { cl.ExpiresAt = time.Time{} }, wantErr: domain.ErrInvalidArgument},
		{name: "bad typ", codec: c, mutate: func(cl *domain.Claims) { cl.Type = "id" }, wantErr: domain.ErrInvalidArgument},
		{name: "user not JSON", codec: c, mutate: func(*domain.Claims) {}, user: make(chan int), wantErr: domain.ErrInvalidArgument},
		{name: "verify-only", codec: verifyOnly, mutate: func(*domain.Claims) {}, wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := accessClaims()
			tt.mutate(&cl)
			_, err := tt.codec.Sign(cl, tt.user)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestNew(t *testing.T) {
	edPublic := edPrivate.Public().(ed25519.PublicKey)
	otherPublic := ed25519.NewKeyFromSeed(key(33)[1:]).Public().(ed25519.PublicKey)
	secret := []byte("not-long-enough-secret-key")
	tests := []struct {
		name    string
		cfg     jwtcodec.Config
		wantErr error
	}{
		{name: "default method", cfg: jwtcodec.Config{Key: key(32)}},
		{name: "HS512 64-byte key", cfg: jwtcodec.Config{Method: "HS512", Key: key(64)}},
		{name: "EdDSA private and matching public", cfg: jwtcodec.Config{Method: "EdDSA", EdPrivate: edPrivate, EdPublic: edPublic}},
		{name: "EdDSA verify-only", cfg: jwtcodec.Config{Method: "EdDSA", EdPublic: edPublic}},
		{name: "short HS256 key", cfg: jwtcodec.Config{Key: secret}, wantErr: domain.ErrInvalidArgument},
		{name: "no key", cfg: jwtcodec.Config{}, wantErr: domain.ErrInvalidArgument},
		{name: "HS384 with 32-byte key", cfg: jwtcodec.Config{Method: "HS384", Key: key(32)}, wantErr: domain.ErrInvalidArgument},
		{name: "HS512 with 48-byte key", cfg: jwtcodec.Config{Method: "HS512", Key: key(48)}, wantErr: domain.ErrInvalidArgument},
		{name: "unknown method", cfg: jwtcodec.Config{Method: "RS256", Key: key(32)}, wantErr: domain.ErrInvalidArgument},
		{name: "none", cfg: jwtcodec.Config{Method: "none", Key: key(32)}, wantErr: domain.ErrInvalidArgument},
		{name: "lower-case method", cfg: jwtcodec.Config{Method: "hs256", Key: key(32)}, wantErr: domain.ErrInvalidArgument},
		{name: "EdDSA without keys", cfg: jwtcodec.Config{Method: "EdDSA", Key: key(32)}, wantErr: domain.ErrInvalidArgument},
		{name: "EdDSA short public key", cfg: jwtcodec.Config{Method: "EdDSA", EdPublic: edPublic[:31]}, wantErr: domain.ErrInvalidArgument},
		{name: "EdDSA short private key", cfg: jwtcodec.Config{Method: "EdDSA", EdPrivate: edPrivate[:63]}, wantErr: domain.ErrInvalidArgument},
		{name: "EdDSA mismatched keys", cfg: jwtcodec.Config{Method: "EdDSA", EdPrivate: edPrivate, EdPublic: otherPublic}, wantErr: domain.ErrInvalidArgument},
		{name: "negative leeway", cfg: jwtcodec.Config{Key: key(32), Leeway: -time.Second}, wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := jwtcodec.New(tt.cfg)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.NotContains(t, err.Error(), string(secret))
		})
	}
}

func TestParseRejects(t *testing.T) {
	k := key(32)
	c := newCodec(t, jwtcodec.Config{Key: k})
	hs := jwt.SigningMethodHS256
	sec := func(d time.Duration) int64 { return now.Add(d).Unix() }
	valid := mapToken(t, hs, k, validMap())
	parts := strings.Split(valid, ".")
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "valid", token: valid},
		{name: "header keys in another order", token: rawToken(t, `{"typ":"JWT","alg":"HS256"}`, `{"sub":"u","exp":1700000060,"typ":"access","sid":"s","gen":"g"}`, hs, k)},
		{name: "header without typ", token: rawToken(t, `{"alg":"HS256"}`, `{"sub":"u","exp":1700000060,"typ":"refresh","sid":"s","gen":"g"}`, hs, k)},
		{name: "exp one second ahead", token: mapToken(t, hs, k, with(validMap(), "exp", sec(time.Second)))},
		{name: "nbf within leeway", token: mapToken(t, hs, k, with(validMap(), "nbf", sec(3*time.Second)))},
		{name: "iat within leeway", token: mapToken(t, hs, k, with(validMap(), "iat", sec(3*time.Second)))},
		{name: "fractional exp", token: mapToken(t, hs, k, with(validMap(), "exp", 1700000060.5))},

		{name: "alg none", token: mapToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validMap()), wantErr: domain.ErrInvalid},
		{name: "alg none without signature part", token: parts[0] + "." + parts[1], wantErr: domain.ErrMalformed},
		{name: "HS512 token", token: mapToken(t, jwt.SigningMethodHS512, k, validMap()), wantErr: domain.ErrInvalid},
		{name: "lower-case alg", token: rawToken(t, `{"alg":"hs256"}`, `{"sub":"u","exp":1700000060,"typ":"access","sid":"s","gen":"g"}`, hs, k), wantErr: domain.ErrInvalid},
		{name: "other key", token: mapToken(t, hs, key(33), validMap()), wantErr: domain.ErrInvalid},
		{name: "empty signature", token: parts[0] + "." + parts[1] + ".", wantErr: domain.ErrInvalid},
		{name: "exp missing", token: mapToken(t, hs, k, with(validMap(), "exp", nil)), wantErr: domain.ErrInvalid},
		{name: "exp null", token: rawToken(t, `{"alg":"HS256"}`, `{"sub":"u","exp":null,"typ":"access","sid":"s","gen":"g"}`, hs, k), wantErr: domain.ErrInvalid},
		{name: "exp as string", token: mapToken(t, hs, k, with(validMap(), "exp", "1700000060")), wantErr: domain.ErrMalformed},
		{name: "expired", token: mapToken(t, hs, k, with(validMap(), "exp", sec(-time.Minute))), wantErr: domain.ErrExpired},
		{name: "exp 3s past: no leeway on exp", token: mapToken(t, hs, k, with(validMap(), "exp", sec(-3*time.Second))), wantErr: domain.ErrExpired},
		{name: "exp is now", token: mapToken(t, hs, k, with(validMap(), "exp", sec(0))), wantErr: domain.ErrExpired},
		{name: "expired at exactly now minus leeway", token: mapToken(t, hs, k, with(validMap(), "exp", sec(-5*time.Second))), wantErr: domain.ErrExpired},
		{name: "expired and not yet valid", token: mapToken(t, hs, k, with(validMap(), "exp", sec(-time.Minute), "nbf", sec(time.Hour))), wantErr: domain.ErrInvalid},
		{name: "expired with bad typ", token: mapToken(t, hs, k, with(validMap(), "exp", sec(-time.Minute), "typ", "id")), wantErr: domain.ErrInvalid},
		{name: "nbf in the future", token: mapToken(t, hs, k, with(validMap(), "nbf", sec(time.Minute))), wantErr: domain.ErrInvalid},
		{name: "iat in the future beyond leeway", token: mapToken(t, hs, k, with(validMap(), "iat", sec(time.Minute))), wantErr: domain.ErrInvalid},
		{name: "typ missing", token: mapToken(t, hs, k, with(validMap(), "typ", nil)), wantErr: domain.ErrInvalid},
		{name: "typ unknown", token: mapToken(t, hs, k, with(validMap(), "typ", "Access")), wantErr: domain.ErrInvalid},
		{name: "sub missing", token: mapToken(t, hs, k, with(validMap(), "sub", nil)), wantErr: domain.ErrInvalid},
		{name: "sid missing", token: mapToken(t, hs, k, with(validMap(), "sid", nil)), wantErr: domain.ErrInvalid},
		{name: "gen missing", token: mapToken(t, hs, k, with(validMap(), "gen", nil)), wantErr: domain.ErrInvalid},
		{name: "ip not an address", token: mapToken(t, hs, k, with(validMap(), "ip", "localhost")), wantErr: domain.ErrMalformed},
		{name: "payload not JSON", token: rawToken(t, `{"alg":"HS256","typ":"JWT"}`, `not json`, hs, k), wantErr: domain.ErrMalformed},
		{name: "payload JSON array", token: rawToken(t, `{"alg":"HS256","typ":"JWT"}`, `[1]`, hs, k), wantErr: domain.ErrMalformed},
		{name: "header not JSON", token: rawToken(t, `{"alg":"HS256"`, `{}`, hs, k), wantErr: domain.ErrMalformed},
		{name: "header without alg", token: rawToken(t, `{"typ":"JWT"}`, `{}`, hs, k), wantErr: domain.ErrInvalid},
		{name: "padded signature", token: valid + "=", wantErr: domain.ErrMalformed},
		{name: "newline in signature", token: valid[:len(valid)-5] + "\n" + valid[len(valid)-5:], wantErr: domain.ErrMalformed},
		{name: "standard base64 signature", token: parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+/", wantErr: domain.ErrMalformed},
		{name: "empty", token: "", wantErr: domain.ErrMalformed},
		{name: "dots only", token: "..", wantErr: domain.ErrMalformed},
		{name: "one part", token: parts[0], wantErr: domain.ErrMalformed},
		{name: "four parts", token: valid + ".", wantErr: domain.ErrMalformed},
		{name: "non-UTF-8 garbage", token: "\xff\xfe\x00.\xc3\x28.\xa0\xa1", wantErr: domain.ErrMalformed},
		{name: "too large", token: valid + strings.Repeat("A", jwtcodec.MaxTokenSize), wantErr: domain.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Parse([]byte(tt.token), nil)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestParseUserArgument(t *testing.T) {
	c := newCodec(t, jwtcodec.Config{Key: key(32)})
	tok := []byte(sign(t, c, accessClaims(), testUser{Name: "alice"}))
	tests := []struct {
		name    string
		user    any
		wantErr error
	}{
		{name: "nil", user: nil},
		{name: "pointer", user: &testUser{}},
		{name: "pointer to map", user: &map[string]any{}},
		{name: "value", user: testUser{}, wantErr: domain.ErrInvalidArgument},
		{name: "typed nil pointer", user: (*testUser)(nil), wantErr: domain.ErrInvalidArgument},
		{name: "pointer to wrong type", user: new(int), wantErr: domain.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Parse(tok, tt.user)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}

	t.Run("no usr claim leaves user untouched", func(t *testing.T) {
		u := testUser{Name: "keep"}
		_, err := c.Parse([]byte(sign(t, c, accessClaims(), nil)), &u)
		require.NoError(t, err)
		assert.Equal(t, testUser{Name: "keep"}, u)
	})
}

func TestIssuerAudience(t *testing.T) {
	k := key(32)
	strict := newCodec(t, jwtcodec.Config{Key: k, Issuer: "https://auth.example", Audience: []string{"api", "web"}})
	tests := []struct {
		name    string
		signer  jwtcodec.Config
		wantErr error
	}{
		{name: "same issuer and audience", signer: jwtcodec.Config{Key: k, Issuer: "https://auth.example", Audience: []string{"api"}}},
		{name: "one matching audience of several", signer: jwtcodec.Config{Key: k, Issuer: "https://auth.example", Audience: []string{"other", "web"}}},
		{name: "other issuer", signer: jwtcodec.Config{Key: k, Issuer: "https://evil.example", Audience: []string{"api"}}, wantErr: domain.ErrInvalid},
		{name: "no issuer", signer: jwtcodec.Config{Key: k, Audience: []string{"api"}}, wantErr: domain.ErrInvalid},
		{name: "other audience", signer: jwtcodec.Config{Key: k, Issuer: "https://auth.example", Audience: []string{"admin"}}, wantErr: domain.ErrInvalid},
		{name: "no audience", signer: jwtcodec.Config{Key: k, Issuer: "https://auth.example"}, wantErr: domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, newCodec(t, tt.signer), accessClaims(), nil)
			_, err := strict.Parse([]byte(tok), nil)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestAlgorithmConfusion(t *testing.T) {
	edPublic := edPrivate.Public().(ed25519.PublicKey)
	edCodec := newCodec(t, jwtcodec.Config{Method: "EdDSA", EdPrivate: edPrivate})
	verifyOnly := newCodec(t, jwtcodec.Config{Method: "EdDSA", EdPublic: edPublic})
	hsCodec := newCodec(t, jwtcodec.Config{Key: []byte(edPublic)})
	edToken := sign(t, edCodec, accessClaims(), nil)

	tests := []struct {
		name    string
		codec   *jwtcodec.Codec
		token   string
		wantErr error
	}{
		{name: "EdDSA token, verify-only codec", codec: verifyOnly, token: edToken},
		{name: "HS256 with the public key as secret, EdDSA codec", codec: verifyOnly, token: mapToken(t, jwt.SigningMethodHS256, []byte(edPublic), validMap()), wantErr: domain.ErrInvalid},
		{name: "HS256 codec's own token, EdDSA codec", codec: edCodec, token: sign(t, hsCodec, accessClaims(), nil), wantErr: domain.ErrInvalid},
		{name: "EdDSA token, HS256 codec", codec: hsCodec, token: edToken, wantErr: domain.ErrInvalid},
		{name: "EdDSA token with another key", codec: verifyOnly, token: mapToken(t, jwt.SigningMethodEdDSA, ed25519.NewKeyFromSeed(key(64)[32:]), validMap()), wantErr: domain.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.codec.Parse([]byte(tt.token), nil)
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func tamperCodecs(t *testing.T) map[string]*jwtcodec.Codec {
	return map[string]*jwtcodec.Codec{
		"HS256": newCodec(t, jwtcodec.Config{Key: key(32)}),
		"HS512": newCodec(t, jwtcodec.Config{Method: "HS512", Key: key(64)}),
		"EdDSA": newCodec(t, jwtcodec.Config{Method: "EdDSA", EdPrivate: edPrivate}),
	}
}

func TestTamperedTokenRejected(t *testing.T) {
	for name, c := range tamperCodecs(t) {
		t.Run(name, func(t *testing.T) {
			tok := []byte(sign(t, c, accessClaims(), testUser{Name: "alice"}))
			_, err := c.Parse(tok, nil)
			require.NoError(t, err)
			for i := range tok {
				for bit := range 8 {
					bad := bytes.Clone(tok)
					bad[i] ^= 1 << bit
					_, err := c.Parse(bad, nil)
					assertRejected(t, err)
				}
			}
		})
	}
}

func TestTruncatedTokenRejected(t *testing.T) {
	for name, c := range tamperCodecs(t) {
		t.Run(name, func(t *testing.T) {
			tok := []byte(sign(t, c, accessClaims(), nil))
			for n := range len(tok) {
				_, err := c.Parse(tok[:n], nil)
				assertRejected(t, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	c := newCodec(f, jwtcodec.Config{Key: key(32)})
	valid := sign(f, c, accessClaims(), testUser{Name: "alice"})
	f.Add([]byte(valid))
	f.Add([]byte(sign(f, c, domain.Claims{Subject: "u", ExpiresAt: now.Add(-time.Hour), Type: domain.Refresh, SessionID: "s", Generation: "g"}, nil)))
	f.Add([]byte(mapToken(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validMap())))
	f.Add([]byte(rawToken(f, `{"typ":"JWT","alg":"HS256"}`, `{"exp":1e400}`, jwt.SigningMethodHS256, key(32))))
	f.Add([]byte(valid[:len(valid)/2]))
	f.Add([]byte("a.b.c"))
	f.Add([]byte("\xff\xfe.\xc3\x28."))
	f.Fuzz(func(t *testing.T, tok []byte) {
		var u testUser
		_, err := c.Parse(tok, &u)
		if err == nil {
			assert.Equal(t, valid, string(tok), "only the untampered token may parse")
			return
		}
		assert.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrExpired),
			"untyped error: %v", err)
	})
}

// baselineClaims is the claims struct a plain golang-jwt user would write
// for the same token.
type baselineClaims struct {
	jwt.RegisteredClaims
	Type           string    `json:"typ"`
	SessionID      string    `json:"sid"`
	Generation     string    `json:"gen"`
	IP             string    `json:"ip,omitempty"`
	DeviceID       string    `json:"dev,omitempty"`
	User           *testUser `json:"usr,omitempty"`
	RefreshCounter uint64    `json:"rfc,omitempty"`
}

func benchToken(b *testing.B) (*jwtcodec.Codec, string) {
	c := newCodec(b, jwtcodec.Config{Key: key(32)})
	return c, sign(b, c, accessClaims(), testUser{Name: "alice", Roles: []string{"admin"}})
}

func BenchmarkParse(b *testing.B) {
	c, tok := benchToken(b)
	raw := []byte(tok)
	b.ReportAllocs()
	for b.Loop() {
		var u testUser
		if _, err := c.Parse(raw, &u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineParseWithClaims(b *testing.B) {
	_, tok := benchToken(b)
	k := key(32)
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(clock))
	keyFunc := func(*jwt.Token) (any, error) { return k, nil }
	b.ReportAllocs()
	for b.Loop() {
		var cl baselineClaims
		if _, err := p.ParseWithClaims(tok, &cl, keyFunc); err != nil {
			b.Fatal(err)
		}
	}
}

// encoding/base64 skips CR and LF; a token must still have one spelling.
// HS384's 64-character signature is a multiple of 4, where a full decoded
// length alone would let one through; subjects of 1 to 4 bytes give the
// payload every length modulo 4.
func TestParseRefusesSkippedCharacters(t *testing.T) {
	for _, method := range []string{"HS256", "HS384", "HS512"} {
		c := newCodec(t, jwtcodec.Config{Method: method, Key: key(64)})
		for n := 1; n <= 4; n++ {
			cl := accessClaims()
			cl.Subject = strings.Repeat("u", n)
			tok, err := c.Sign(cl, nil)
			require.NoError(t, err)
			for i := 0; i <= len(tok); i++ {
				for _, ch := range "\r\n" {
					_, err := c.Parse([]byte(tok[:i]+string(ch)+tok[i:]), nil)
					require.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid),
						"%s: %q at %d: %v", method, ch, i, err)
				}
			}
		}
	}
}
