package integration

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/jwtauthtest"
	"github.com/jwtauth/jwtauth/ports"
)

// The attack suite. Every case states the precise outcome: in process,
// the one domain sentinel the error wraps (and no other); over HTTP, the
// status, the contract's error code and, on 401, the RFC 6750 challenge.
// A few controls (cases that must succeed) show that what fails is the
// attack and not the set-up. Each test logs its number of cases.

// ---------------------------------------------------------------------
// Layer 1: app.Service in process, on the real jwtcodec and jwe adapters
// and the memory store, cache and bus.
// ---------------------------------------------------------------------

// atkUser is the user claims type of the in-process service.
type atkUser struct {
	Name string `json:"name"`
}

// inproc is one deployment in process.
type inproc struct {
	f   forger
	svc *app.Service[atkUser]
	clk *jwtauthtest.Clock
}

// newInproc builds a service with fresh keys; cc.Method defaults to HS256
// with the forger's key.
func newInproc(t *testing.T, cfg app.Config, cc jwtcodec.Config) *inproc {
	t.Helper()
	e := &inproc{f: newForger(t), clk: jwtauthtest.NewClock(time.Now().Truncate(time.Second))}
	if cc.Method == "" {
		cc.Method = "HS256"
	}
	if strings.HasPrefix(cc.Method, "HS") {
		cc.Key = e.f.signKey
	}
	cc.Now = e.clk.Now
	codec, err := jwtcodec.New(cc)
	require.NoError(t, err)
	cfg.Now = e.clk.Now
	bus := &memory.Bus{}
	e.svc, err = app.New(cfg, app.Deps[atkUser]{
		Store:  memory.NewStore(bus),
		Codec:  codec,
		Cipher: e.f.cipher,
		Cache:  &memory.Cache{},
		Bus:    bus,
		Users: ports.UserLoaderFunc[atkUser](func(_ context.Context, id string) (atkUser, error) {
			return atkUser{Name: id}, nil
		}),
	})
	require.NoError(t, err)
	return e
}

func (e *inproc) login(t *testing.T, user string, c domain.ClientInfo) app.Pair {
	t.Helper()
	p, err := e.svc.Login(t.Context(), user, atkUser{Name: user}, c)
	require.NoError(t, err)
	return p
}

func (e *inproc) auth(tok string, c domain.ClientInfo) func() error {
	return func() error {
		_, err := e.svc.Authenticate(context.Background(), tok, c)
		return err
	}
}

func (e *inproc) refresh(tok string, c domain.ClientInfo) func() error {
	return func() error {
		_, err := e.svc.Refresh(context.Background(), tok, c)
		return err
	}
}

func (e *inproc) verify(tok string, c domain.ClientInfo) func() error {
	return func() error {
		_, err := e.svc.Verify(context.Background(), tok, c)
		return err
	}
}

// atkCase is one in-process case: op runs it; its error must wrap one of
// want and no other sentinel; an empty want means op must succeed.
type atkCase struct {
	name string
	op   func() error
	want []error
}

// atkTable collects cases and runs them in order (later cases may depend
// on the state earlier ones left).
type atkTable []atkCase

func (tb *atkTable) add(name string, op func() error, want ...error) {
	*tb = append(*tb, atkCase{name: name, op: op, want: want})
}

func (tb atkTable) run(t *testing.T) int {
	t.Helper()
	for _, tc := range tb {
		err := tc.op()
		if len(tc.want) == 0 {
			assert.NoError(t, err, tc.name)
			continue
		}
		assert.True(t, matchesOnly(err, tc.want...), "%s: got %v, want %v", tc.name, err, tc.want)
	}
	return len(tb)
}

var (
	atkLaptop = domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: "laptop-1", DeviceName: "Firefox/140"}
	atkPhone  = domain.ClientInfo{IP: netip.MustParseAddr("198.51.100.20"), DeviceID: "phone-1", DeviceName: "Safari/18"}
)

func withIP(c domain.ClientInfo, ip string) domain.ClientInfo {
	c.IP = netip.MustParseAddr(ip)
	return c
}

func withDevice(c domain.ClientInfo, dev string) domain.ClientInfo {
	c.DeviceID = dev
	return c
}

// set returns a claims mutation setting key to v (deleting it for nil).
func set(key string, v any) func(map[string]any) {
	return func(m map[string]any) {
		if v == nil {
			delete(m, key)
			return
		}
		m[key] = v
	}
}

// joseToken encrypts plaintext with go-jose, as another JOSE library (or
// an attacker using one) would.
func joseToken(t testing.TB, alg jose.KeyAlgorithm, enc jose.ContentEncryption, key any, opts *jose.EncrypterOptions, plaintext string) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: key, KeyID: "k1"}, opts)
	require.NoError(t, err)
	obj, err := e.Encrypt([]byte(plaintext))
	require.NoError(t, err)
	tok, err := obj.CompactSerialize()
	require.NoError(t, err)
	return tok
}

// forgedToken is a token an attacker presents in place of an access token,
// with the sentinel it must be rejected with.
type forgedToken struct {
	name string
	tok  func() string // made when called, so that time claims are fresh
	want error         // nil: a control that must be accepted
}

// forgeTokens returns the forged tokens every surface accepting an access
// token must reject, derived from access, a genuine access token of the
// deployment of f whose client is the one presenting them; victimSID is a
// session of another user; now is the deployment's clock in Unix seconds.
// Both layers run them.
func forgeTokens(t *testing.T, f forger, access, victimSID string, now func() int64) []forgedToken {
	t.Helper()
	payload := f.payload(t, access)
	realSig := f.signature(t, access)
	jws := f.inner(t, access)
	var out []forgedToken
	add := func(name, tok string, want error) {
		out = append(out, forgedToken{name, func() string { return tok }, want})
	}
	// r reseals at call time; rel sets a time claim relative to now then.
	r := func(mut func(map[string]any)) func() string {
		return func() string { return f.reseal(t, access, mut) }
	}
	addR := func(name string, mut func(map[string]any), want error) {
		out = append(out, forgedToken{name, r(mut), want})
	}
	rel := func(key string, offset int64) func(map[string]any) {
		return func(m map[string]any) { m[key] = now() + offset }
	}

	add("control: the genuine access token", access, nil)
	addR("control: resealed unchanged with the deployment's keys", func(map[string]any) {}, nil)

	// alg "none", every casing, with and without a signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		h := `{"alg":"` + alg + `","typ":"JWT"}`
		for _, sig := range []struct{ name, sig string }{{"no signature", ""}, {"the genuine signature", realSig}, {"a garbage signature", "AAAA"}} {
			add("alg "+alg+" with "+sig.name, f.wrap(t, seg.EncodeToString([]byte(h))+"."+seg.EncodeToString(payload)+"."+sig.sig), domain.ErrInvalid)
		}
		add("alg "+alg+", unencrypted", signJWS(t, h, payload, nil, nil), domain.ErrMalformed)
	}
	add("alg missing", f.wrap(t, signJWS(t, `{"typ":"JWT"}`, payload, jwt.SigningMethodHS256, f.signKey)), domain.ErrInvalid)
	add("alg not a string", f.wrap(t, signJWS(t, `{"alg":["HS256"]}`, payload, jwt.SigningMethodHS256, f.signKey)), domain.ErrMalformed)

	// Algorithm confusion against an HS256 deployment.
	add("HS384 with the deployment's key", f.wrap(t, signJWS(t, `{"alg":"HS384","typ":"JWT"}`, payload, jwt.SigningMethodHS384, f.signKey)), domain.ErrInvalid)
	add("HS512 with the deployment's key", f.wrap(t, signJWS(t, `{"alg":"HS512","typ":"JWT"}`, payload, jwt.SigningMethodHS512, f.signKey)), domain.ErrInvalid)
	_, edPriv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	add("EdDSA with the attacker's key", f.wrap(t, signJWS(t, `{"alg":"EdDSA","typ":"JWT"}`, payload, jwt.SigningMethodEdDSA, edPriv)), domain.ErrInvalid)
	add("EdDSA with a key seeded by the HMAC secret", f.wrap(t, signJWS(t, `{"alg":"EdDSA","typ":"JWT"}`, payload, jwt.SigningMethodEdDSA, ed25519.NewKeyFromSeed(f.signKey))), domain.ErrInvalid)
	add("RS256 with the attacker's key", f.wrap(t, signJWS(t, `{"alg":"RS256","typ":"JWT"}`, payload, jwt.SigningMethodRS256, rsaKey())), domain.ErrInvalid)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	add("ES256 with the attacker's key", f.wrap(t, signJWS(t, `{"alg":"ES256","typ":"JWT"}`, payload, jwt.SigningMethodES256, ecKey)), domain.ErrInvalid)
	add("HS256 with an embedded jwk and jku of the attacker", f.wrap(t, signJWS(t,
		`{"alg":"HS256","jku":"https://attacker.example/jwks","jwk":{"kty":"oct","k":"AAAA"},"kid":"../../dev/null"}`,
		payload, jwt.SigningMethodHS256, make([]byte, 32))), domain.ErrInvalid)

	// Other keys.
	add("signed with another HS256 key", f.wrap(t, signJWS(t, `{"alg":"HS256","typ":"JWT"}`, payload, jwt.SigningMethodHS256, randomBytes(t, 32))), domain.ErrInvalid)
	add("signed with an all-zero HS256 key", f.wrap(t, signJWS(t, `{"alg":"HS256","typ":"JWT"}`, payload, jwt.SigningMethodHS256, make([]byte, 32))), domain.ErrInvalid)
	other := randomBytes(t, 32)
	add("encrypted with another key under kid k1", sealJWE(t, other, stdJWEHeader, []byte(jws)), domain.ErrInvalid)
	add("encrypted with another key under kid k2", sealJWE(t, other, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k2"}`, []byte(jws)), domain.ErrInvalid)
	add("encrypted with an all-zero key", sealJWE(t, make([]byte, 32), stdJWEHeader, []byte(jws)), domain.ErrInvalid)

	// kid injection: authentic under the real key; only the kid is wrong.
	for _, kid := range []struct{ name, json string }{
		{"path traversal", `"../../etc/passwd"`},
		{"absolute path", `"/dev/zero"`},
		{"SQL", `"' OR 1=1 --"`},
		{"SQL stacked query", `"k1'; DROP TABLE sessions; --"`},
		{"10 KB", `"` + strings.Repeat("A", 10<<10) + `"`},
		{"empty", `""`},
		{"unicode", `"ключ-🔑"`},
		{"right-to-left override", `"k1\u202e"`},
		{"NUL suffix", `"k1\u0000"`},
		{"other case", `"K1"`},
		{"trailing space", `"k1 "`},
		{"URL", `"https://attacker.example/jwks.json"`},
		{"null", `null`},
	} {
		add("kid "+kid.name, sealJWE(t, f.encKey, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":`+kid.json+`}`, []byte(jws)), domain.ErrInvalid)
	}
	add("kid missing", sealJWE(t, f.encKey, `{"alg":"dir","enc":"A256GCM","cty":"JWT"}`, []byte(jws)), domain.ErrInvalid)
	add("kid not a string", sealJWE(t, f.encKey, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":["k1"]}`, []byte(jws)), domain.ErrMalformed)

	// JWE protected headers other than dir/A256GCM/JWT, authentic under
	// the real key.
	for _, h := range []struct {
		name, header string
		want         error
	}{
		{"JWE alg RSA-OAEP", `{"alg":"RSA-OAEP","enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE alg RSA1_5", `{"alg":"RSA1_5","enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE alg A256KW", `{"alg":"A256KW","enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE alg A256GCMKW", `{"alg":"A256GCMKW","enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE alg ECDH-ES", `{"alg":"ECDH-ES","enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE alg PBES2-HS512+A256KW", `{"alg":"PBES2-HS512+A256KW","enc":"A256GCM","cty":"JWT","kid":"k1","p2s":"AAAA","p2c":1}`, domain.ErrInvalid},
		{"JWE alg none", `{"alg":"none","enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE alg DIR", `{"alg":"DIR","enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE alg missing", `{"enc":"A256GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE enc A128GCM", `{"alg":"dir","enc":"A128GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE enc A192GCM", `{"alg":"dir","enc":"A192GCM","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE enc A256CBC-HS512", `{"alg":"dir","enc":"A256CBC-HS512","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE enc none", `{"alg":"dir","enc":"none","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE enc missing", `{"alg":"dir","cty":"JWT","kid":"k1"}`, domain.ErrInvalid},
		{"JWE cty missing", `{"alg":"dir","enc":"A256GCM","kid":"k1"}`, domain.ErrInvalid},
		{"JWE cty JSON", `{"alg":"dir","enc":"A256GCM","cty":"JSON","kid":"k1"}`, domain.ErrInvalid},
		{"JWE cty empty", `{"alg":"dir","enc":"A256GCM","cty":"","kid":"k1"}`, domain.ErrInvalid},
		{"JWE zip DEF", `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","zip":"DEF"}`, domain.ErrInvalid},
		{"JWE zip null", `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","zip":null}`, domain.ErrInvalid},
		{"JWE crit", `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","crit":["exp"],"exp":0}`, domain.ErrInvalid},
		{"JWE crit empty", `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","crit":[]}`, domain.ErrInvalid},
		{"JWE header not JSON", `alg=dir`, domain.ErrMalformed},
		{"JWE header an array", `["dir","A256GCM"]`, domain.ErrMalformed},
		{"control: JWE header in another order", `{"kid":"k1","cty":"JWT","enc":"A256GCM","alg":"dir"}`, nil},
		{"control: JWE cty compared case-insensitively (RFC 7515 4.1.10)", `{"alg":"dir","enc":"A256GCM","cty":"jwt","kid":"k1"}`, nil},
	} {
		add(h.name, sealJWE(t, f.encKey, h.header, []byte(jws)), h.want)
	}

	// Real tokens of other JWE algorithms, made by go-jose.
	cty := (&jose.EncrypterOptions{}).WithContentType("JWT")
	add("control: go-jose dir/A256GCM with the deployment's key", joseToken(t, jose.DIRECT, jose.A256GCM, f.encKey, cty, jws), nil)
	add("go-jose dir/A256GCM without cty", joseToken(t, jose.DIRECT, jose.A256GCM, f.encKey, nil, jws), domain.ErrInvalid)
	add("go-jose dir/A256GCM with zip DEF", joseToken(t, jose.DIRECT, jose.A256GCM, f.encKey,
		&jose.EncrypterOptions{Compression: jose.DEFLATE, ExtraHeaders: map[jose.HeaderKey]any{jose.HeaderContentType: "JWT"}}, jws), domain.ErrInvalid)
	add("go-jose dir/A128GCM", joseToken(t, jose.DIRECT, jose.A128GCM, f.encKey[:16], cty, jws), domain.ErrInvalid)
	add("go-jose dir/A256CBC-HS512 (128-bit IV, 256-bit tag)", joseToken(t, jose.DIRECT, jose.A256CBC_HS512, randomBytes(t, 64), cty, jws), domain.ErrMalformed)
	add("go-jose A256KW/A256GCM (encrypted key present)", joseToken(t, jose.A256KW, jose.A256GCM, f.encKey, cty, jws), domain.ErrMalformed)
	add("go-jose RSA-OAEP/A256GCM (encrypted key present)", joseToken(t, jose.RSA_OAEP, jose.A256GCM, &rsaKey().PublicKey, cty, jws), domain.ErrMalformed)

	// Structure.
	parts := strings.Split(access, ".")
	add("dir with an encrypted key", parts[0]+".AAAA."+strings.Join(parts[2:], "."), domain.ErrMalformed)
	add("128-bit IV", parts[0]+".."+seg.EncodeToString(randomBytes(t, 16))+"."+parts[3]+"."+parts[4], domain.ErrMalformed)
	add("96-bit tag", strings.Join(parts[:4], ".")+"."+seg.EncodeToString(randomBytes(t, 12)), domain.ErrMalformed)
	add("six parts", access+".AAAA", domain.ErrMalformed)
	add("JWE JSON serialization", `{"protected":"`+parts[0]+`","iv":"`+parts[2]+`","ciphertext":"`+parts[3]+`","tag":"`+parts[4]+`"}`, domain.ErrMalformed)
	add("padded base64", access+"==", domain.ErrMalformed)
	add("standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(access)+"+/", domain.ErrMalformed)
	add("over 16 KiB", access+"."+strings.Repeat("A", 16<<10), domain.ErrMalformed)

	// Claims, changed one at a time by a key holder: the checks after the
	// signature still hold.
	addR("expired an hour ago", rel("exp", -3600), domain.ErrExpired)
	addR("exp negative", set("exp", -1), domain.ErrExpired)
	addR("expired 1 s ago: no leeway on exp", rel("exp", -1), domain.ErrExpired)
	addR("control: exp 2 s ahead", rel("exp", 2), nil)
	addR("exp missing", set("exp", nil), domain.ErrInvalid)
	addR("exp a string", set("exp", "never"), domain.ErrMalformed)
	addR("exp beyond float precision", set("exp", json.Number("1e300")), domain.ErrMalformed)
	addR("nbf in an hour", rel("nbf", 3600), domain.ErrInvalid)
	addR("control: nbf 3 s ahead, within the leeway", rel("nbf", 3), nil)
	addR("iat a minute ahead", rel("iat", 60), domain.ErrInvalid)
	addR("control: iat 3 s ahead, within the leeway", rel("iat", 3), nil)
	addR("typ refresh in an access token", set("typ", "refresh"), domain.ErrWrongTokenType)
	addR("typ id", set("typ", "id"), domain.ErrInvalid)
	addR("typ missing", set("typ", nil), domain.ErrInvalid)
	addR("gen of another generation", set("gen", "00000000-0000-4000-8000-000000000000"), domain.ErrRevoked)
	addR("sid unknown", set("sid", "01JZZZZZZZZZZZZZZZZZZZZZZZ"), domain.ErrRevoked)
	addR("sid of another user's session", set("sid", victimSID), domain.ErrRevoked)
	addR("sub of another user", set("sub", "someone-else"), domain.ErrRevoked)
	addR("sub missing", set("sub", nil), domain.ErrInvalid)
	addR("sub an object", set("sub", map[string]any{"id": 1}), domain.ErrMalformed)
	addR("ip claim of another address", set("ip", "192.0.2.66"), domain.ErrClientMismatch)
	addR("ip claim removed", set("ip", nil), domain.ErrClientMismatch)
	addR("dev claim of another device", set("dev", "attacker-device"), domain.ErrClientMismatch)
	addR("dev claim removed", set("dev", nil), domain.ErrClientMismatch)
	return out
}

// flips returns every single-bit flip of tok.
func flips(tok string) []string {
	out := make([]string, 0, 8*len(tok))
	for i := range len(tok) {
		for bit := range 8 {
			b := []byte(tok)
			b[i] ^= 1 << bit
			out = append(out, string(b))
		}
	}
	return out
}

func TestAttackInProcess(t *testing.T) {
	t.Parallel()
	total := 0 // the subtests run one after the other
	count := func(n int) { total += n }
	t.Cleanup(func() { t.Logf("in-process attack cases: %d", total) })

	t.Run("tokens", func(t *testing.T) {
		e := newInproc(t, app.Config{}, jwtcodec.Config{})
		p := e.login(t, "alice", atkLaptop)
		victim := e.login(t, "bob", atkPhone)
		var tb atkTable
		for _, ft := range forgeTokens(t, e.f, p.AccessToken, victim.SessionID, func() int64 { return e.clk.Now().Unix() }) {
			if ft.want == nil {
				tb.add(ft.name, e.auth(ft.tok(), atkLaptop))
			} else {
				tb.add(ft.name, e.auth(ft.tok(), atkLaptop), ft.want)
			}
		}
		other := newInproc(t, app.Config{}, jwtcodec.Config{})
		tb.add("a token of another deployment", e.auth(other.login(t, "alice", atkLaptop).AccessToken, atkLaptop), domain.ErrInvalid)
		tb.add("empty token", e.auth("", atkLaptop), domain.ErrMalformed)

		// A stolen token replayed elsewhere; tokens of the wrong type.
		tb.add("stolen access token from another IP", e.auth(p.AccessToken, withIP(atkLaptop, "192.0.2.66")), domain.ErrClientMismatch)
		tb.add("stolen access token from the same /24 (strict binding)", e.auth(p.AccessToken, withIP(atkLaptop, "203.0.113.8")), domain.ErrClientMismatch)
		tb.add("stolen access token from another device", e.auth(p.AccessToken, withDevice(atkLaptop, "laptop-2")), domain.ErrClientMismatch)
		tb.add("stolen access token without a device id", e.auth(p.AccessToken, withDevice(atkLaptop, "")), domain.ErrClientMismatch)
		tb.add("stolen access token, device id with invalid UTF-8", e.auth(p.AccessToken, withDevice(atkLaptop, "laptop-1\xff")), domain.ErrClientMismatch)
		tb.add("control: same device and address, another User-Agent", e.auth(p.AccessToken, domain.ClientInfo{IP: atkLaptop.IP, DeviceID: atkLaptop.DeviceID, DeviceName: "curl/8"}))
		tb.add("refresh token used as an access token", e.auth(p.RefreshToken, atkLaptop), domain.ErrWrongTokenType)
		tb.add("access token used as a refresh token", e.refresh(p.AccessToken, atkLaptop), domain.ErrWrongTokenType)
		tb.add("stolen refresh token from another device", e.refresh(p.RefreshToken, withDevice(atkLaptop, "laptop-2")), domain.ErrClientMismatch)
		tb.add("stolen refresh token verified from another device", e.verify(p.RefreshToken, withDevice(atkLaptop, "laptop-2")), domain.ErrClientMismatch)
		tb.add("refresh with a device id of invalid UTF-8", e.refresh(p.RefreshToken, withDevice(atkLaptop, "\xff\xfe")), domain.ErrInvalidArgument)
		tb.add("control: the victim's token still works", e.auth(victim.AccessToken, atkPhone))

		// Every single-bit flip and every truncation of the access token.
		for i, bad := range flips(p.AccessToken) {
			tb.add(fmt.Sprintf("bit %d of byte %d flipped", i%8, i/8), e.auth(bad, atkLaptop), domain.ErrMalformed, domain.ErrInvalid)
		}
		for n := range len(p.AccessToken) {
			tb.add(fmt.Sprintf("truncated to %d bytes", n), e.auth(p.AccessToken[:n], atkLaptop), domain.ErrMalformed, domain.ErrInvalid)
		}
		n := tb.run(t)
		t.Logf("%d cases, of which %d bit flips and %d truncations of a %d-byte token", n, 8*len(p.AccessToken), len(p.AccessToken), len(p.AccessToken))
		count(n)
	})

	t.Run("EdDSA confusion", func(t *testing.T) {
		_, priv, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		pub := priv.Public().(ed25519.PublicKey)
		e := newInproc(t, app.Config{}, jwtcodec.Config{Method: "EdDSA", EdPrivate: priv})
		p := e.login(t, "alice", atkLaptop)
		payload := e.f.payload(t, p.AccessToken)
		_, stranger, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		var tb atkTable
		wrap := func(header string, m jwt.SigningMethod, key any) func() error {
			return e.auth(e.f.wrap(t, signJWS(t, header, payload, m, key)), atkLaptop)
		}
		tb.add("control: the genuine EdDSA token", e.auth(p.AccessToken, atkLaptop))
		tb.add("control: re-signed EdDSA with the private key", wrap(`{"alg":"EdDSA","typ":"JWT"}`, jwt.SigningMethodEdDSA, priv))
		tb.add("HS256 signed with the public key bytes", wrap(`{"alg":"HS256","typ":"JWT"}`, jwt.SigningMethodHS256, []byte(pub)), domain.ErrInvalid)
		tb.add("HS256 signed with the public key in base64url", wrap(`{"alg":"HS256","typ":"JWT"}`, jwt.SigningMethodHS256, []byte(seg.EncodeToString(pub))), domain.ErrInvalid)
		tb.add("HS512 signed with the public key bytes", wrap(`{"alg":"HS512","typ":"JWT"}`, jwt.SigningMethodHS512, []byte(pub)), domain.ErrInvalid)
		tb.add("HS256 signed with the private key bytes", wrap(`{"alg":"HS256","typ":"JWT"}`, jwt.SigningMethodHS256, []byte(priv)), domain.ErrInvalid)
		tb.add("EdDSA signed by another key", wrap(`{"alg":"EdDSA","typ":"JWT"}`, jwt.SigningMethodEdDSA, stranger), domain.ErrInvalid)
		tb.add("alg Ed25519 with a valid signature", wrap(`{"alg":"Ed25519","typ":"JWT"}`, jwt.SigningMethodEdDSA, priv), domain.ErrInvalid)
		tb.add("alg eddsa (lower case) with a valid signature", wrap(`{"alg":"eddsa","typ":"JWT"}`, jwt.SigningMethodEdDSA, priv), domain.ErrInvalid)
		tb.add("alg none", wrap(`{"alg":"none","typ":"JWT"}`, nil, nil), domain.ErrInvalid)
		count(tb.run(t))
	})

	t.Run("issuer and audience", func(t *testing.T) {
		const iss = "https://auth.example"
		e := newInproc(t, app.Config{Issuer: iss, Audience: []string{"api"}}, jwtcodec.Config{Issuer: iss, Audience: []string{"api"}})
		p := e.login(t, "alice", atkLaptop)
		r := func(mut func(map[string]any)) func() error {
			return e.auth(e.f.reseal(t, p.AccessToken, mut), atkLaptop)
		}
		var tb atkTable
		tb.add("control: the genuine token", e.auth(p.AccessToken, atkLaptop))
		tb.add("iss of another issuer", r(set("iss", "https://evil.example")), domain.ErrInvalid)
		tb.add("iss in another case", r(set("iss", "HTTPS://AUTH.EXAMPLE")), domain.ErrInvalid)
		tb.add("iss missing (a deployment sharing the keys without an issuer)", r(set("iss", nil)), domain.ErrInvalid)
		tb.add("aud of another audience", r(set("aud", []string{"web"})), domain.ErrInvalid)
		tb.add("aud empty", r(set("aud", []string{})), domain.ErrInvalid)
		tb.add("aud missing", r(set("aud", nil)), domain.ErrInvalid)
		tb.add("control: aud as a single string (RFC 7519 4.1.3)", r(set("aud", "api")))
		tb.add("control: aud listing another audience too", r(set("aud", []string{"web", "api"})))
		count(tb.run(t))
	})

	t.Run("clock", func(t *testing.T) {
		e := newInproc(t, app.Config{}, jwtcodec.Config{})
		p := e.login(t, "alice", atkLaptop)
		var tb atkTable
		tb.add("control: 10 min - 1 s later, still valid", func() error {
			e.clk.Advance(10*time.Minute - time.Second)
			return e.auth(p.AccessToken, atkLaptop)()
		})
		tb.add("10 min later, expired at once (no leeway on exp)", func() error {
			e.clk.Advance(time.Second)
			return e.auth(p.AccessToken, atkLaptop)()
		}, domain.ErrExpired)
		tb.add("control: the refresh token still refreshes", e.refresh(p.RefreshToken, atkLaptop))
		var q app.Pair
		tb.add("control: a new login", func() (err error) {
			q, err = e.svc.Login(context.Background(), "bob", atkUser{}, atkPhone)
			return err
		})
		tb.add("the server's clock set back an hour: nbf and iat in the future", func() error {
			e.clk.Advance(-time.Hour)
			return e.auth(q.AccessToken, atkPhone)()
		}, domain.ErrInvalid)
		tb.add("refresh token from the future", func() error { return e.refresh(q.RefreshToken, atkPhone)() }, domain.ErrInvalid)
		count(tb.run(t))
	})

	t.Run("sessions", func(t *testing.T) {
		e := newInproc(t, app.Config{RotateRefresh: true, ReuseGrace: 10 * time.Second}, jwtcodec.Config{})
		ctx := context.Background()
		var tb atkTable

		// A rotated-out refresh token replayed after the grace interval.
		b0 := e.login(t, "bob", atkPhone)
		var b1 app.Pair
		tb.add("control: refresh rotates", func() (err error) {
			b1, err = e.svc.Refresh(ctx, b0.RefreshToken, atkPhone)
			return err
		})
		tb.add("control: the old refresh token within the grace interval (two tabs)", func() error {
			e.clk.Advance(5 * time.Second)
			return e.refresh(b0.RefreshToken, atkPhone)()
		})
		tb.add("the old refresh token after the grace interval", func() error {
			e.clk.Advance(6 * time.Second)
			return e.refresh(b0.RefreshToken, atkPhone)()
		}, domain.ErrRefreshReused)
		tb.add("after reuse: the newest refresh token", func() error { return e.refresh(b1.RefreshToken, atkPhone)() }, domain.ErrRevoked)
		tb.add("after reuse: the newest access token", func() error { return e.auth(b1.AccessToken, atkPhone)() }, domain.ErrRevoked)
		tb.add("after reuse: the first access token", e.auth(b0.AccessToken, atkPhone), domain.ErrRevoked)
		tb.add("after reuse: verify the newest refresh token", func() error { return e.verify(b1.RefreshToken, atkPhone)() }, domain.ErrRevoked)
		tb.add("after reuse: the old refresh token again", e.refresh(b0.RefreshToken, atkPhone), domain.ErrRevoked)

		// A logged-out session, then deleted by the pruner.
		c0 := e.login(t, "carol", atkLaptop)
		tb.add("control: logout", func() error { return e.svc.Logout(ctx, c0.SessionID) })
		tb.add("access token of a logged-out session", e.auth(c0.AccessToken, atkLaptop), domain.ErrRevoked)
		tb.add("refresh token of a logged-out session", e.refresh(c0.RefreshToken, atkLaptop), domain.ErrRevoked)
		tb.add("verify a refresh token of a logged-out session", e.verify(c0.RefreshToken, atkLaptop), domain.ErrRevoked)
		tb.add("control: the pruner deletes ended sessions", func() error {
			e.clk.Advance(time.Second) // it deletes what ended strictly before now
			n, err := e.svc.Prune(ctx)
			if err == nil && n < 2 {
				err = fmt.Errorf("pruned %d sessions, want at least 2", n)
			}
			return err
		})
		tb.add("access token of a deleted session", e.auth(c0.AccessToken, atkLaptop), domain.ErrRevoked)
		tb.add("refresh token of a deleted session", e.refresh(c0.RefreshToken, atkLaptop), domain.ErrRevoked)
		tb.add("verify a refresh token of a deleted session", e.verify(c0.RefreshToken, atkLaptop), domain.ErrRevoked)
		tb.add("logout of a deleted session", func() error { return e.svc.Logout(ctx, c0.SessionID) }, domain.ErrSessionNotFound)

		// Logout everywhere.
		d1, d2 := e.login(t, "dave", atkLaptop), e.login(t, "dave", atkPhone)
		tb.add("control: logout all", func() error { return e.svc.LogoutAll(ctx, "dave") })
		tb.add("logout all: device 1 access token", e.auth(d1.AccessToken, atkLaptop), domain.ErrRevoked)
		tb.add("logout all: device 2 access token", e.auth(d2.AccessToken, atkPhone), domain.ErrRevoked)
		tb.add("logout all: device 1 refresh token", e.refresh(d1.RefreshToken, atkLaptop), domain.ErrRevoked)
		tb.add("logout all: device 2 refresh token", e.refresh(d2.RefreshToken, atkPhone), domain.ErrRevoked)

		// User A against user B's session.
		a, b := e.login(t, "erin", atkLaptop), e.login(t, "frank", atkPhone)
		tb.add("A revokes B's session", func() error { return e.svc.RevokeSession(ctx, "erin", b.SessionID) }, domain.ErrSessionNotFound)
		tb.add("A revokes a session id of SQL", func() error { return e.svc.RevokeSession(ctx, "erin", "' OR 1=1 --") }, domain.ErrSessionNotFound)
		tb.add("A revokes a session id of a path", func() error { return e.svc.RevokeSession(ctx, "erin", "../"+b.SessionID) }, domain.ErrSessionNotFound)
		tb.add("A revokes a 300-byte session id", func() error { return e.svc.RevokeSession(ctx, "erin", strings.Repeat("A", 300)) }, domain.ErrSessionNotFound)
		tb.add("control: A logs out A's other sessions", func() error { return e.svc.LogoutOthers(ctx, "erin", a.SessionID) })
		tb.add("control: B's session still works", e.auth(b.AccessToken, atkPhone))
		tb.add("control: B's refresh token still works", e.refresh(b.RefreshToken, atkPhone))
		tb.add("control: A's session still works", e.auth(a.AccessToken, atkLaptop))

		// Unusable input.
		login := func(user string, c domain.ClientInfo) func() error {
			return func() error {
				_, err := e.svc.Login(ctx, user, atkUser{}, c)
				return err
			}
		}
		tb.add("login with a device id of invalid UTF-8", login("gina", withDevice(atkLaptop, "\xff\xfe")), domain.ErrInvalidArgument)
		tb.add("login with a 300-byte device id", login("gina", withDevice(atkLaptop, strings.Repeat("d", 300))), domain.ErrInvalidArgument)
		tb.add("login with a user id of invalid UTF-8", login("gi\xffna", atkLaptop), domain.ErrInvalidArgument)
		tb.add("login with an empty user id", login("", atkLaptop), domain.ErrInvalidArgument)
		tb.add("login with a 300-byte user id", login(strings.Repeat("u", 300), atkLaptop), domain.ErrInvalidArgument)
		tb.add("control: a device name of invalid UTF-8 is repaired", login("gina", domain.ClientInfo{IP: atkLaptop.IP, DeviceID: "x", DeviceName: "\xff\xfe"}))
		tb.add("logout of an empty session id", func() error { return e.svc.Logout(ctx, "") }, domain.ErrSessionNotFound)
		count(tb.run(t))
	})
}

// seg is the base64url segment encoding of JOSE compact serializations.
var seg = base64.RawURLEncoding

// stdJWEHeader is the protected header jwe.Cipher writes for key "k1".
const stdJWEHeader = `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1"}`

// forger crafts tokens the way an attacker would: with keys it guessed or
// stole, or (to isolate a single check) with the deployment's own keys,
// changing exactly one thing in an otherwise valid token.
type forger struct {
	signKey []byte // the HS256 key of the deployment
	encKey  []byte // the A256GCM key "k1" of the deployment
	cipher  *jwe.Cipher
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func newForger(t testing.TB) forger {
	t.Helper()
	f := forger{signKey: randomBytes(t, 32), encKey: randomBytes(t, 32)}
	var err error
	f.cipher, err = jwe.New(jwe.Key{ID: "k1", Secret: f.encKey})
	require.NoError(t, err)
	return f
}

// env returns the server variables installing the forger's keys.
func (f forger) env() map[string]string {
	return map[string]string{
		"JWTAUTH_SIGNING_KEY":     base64.StdEncoding.EncodeToString(f.signKey),
		"JWTAUTH_ENCRYPTION_KEYS": "k1:" + base64.StdEncoding.EncodeToString(f.encKey),
	}
}

// inner decrypts tok and returns its JWS.
func (f forger) inner(t testing.TB, tok string) string {
	t.Helper()
	jws, err := f.cipher.Decrypt(tok)
	require.NoError(t, err)
	return string(jws)
}

// payload returns the JSON payload of the JWS inside tok.
func (f forger) payload(t testing.TB, tok string) []byte {
	t.Helper()
	parts := strings.Split(f.inner(t, tok), ".")
	require.Len(t, parts, 3)
	p, err := seg.DecodeString(parts[1])
	require.NoError(t, err)
	return p
}

// signature returns the signature segment of the JWS inside tok.
func (f forger) signature(t testing.TB, tok string) string {
	t.Helper()
	parts := strings.Split(f.inner(t, tok), ".")
	require.Len(t, parts, 3)
	return parts[2]
}

// wrap encrypts a JWS exactly as the deployment does.
func (f forger) wrap(t testing.TB, jws string) string {
	t.Helper()
	tok, err := f.cipher.Encrypt([]byte(jws))
	require.NoError(t, err)
	return tok
}

// reseal decodes tok's claims, applies mutate, and signs (HS256, the
// deployment's key) and encrypts the result: a token that differs from a
// genuine one in exactly what mutate changed.
func (f forger) reseal(t testing.TB, tok string, mutate func(claims map[string]any)) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(f.payload(t, tok)))
	dec.UseNumber()
	var claims map[string]any
	require.NoError(t, dec.Decode(&claims))
	mutate(claims)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	return f.wrap(t, signJWS(t, `{"alg":"HS256","typ":"JWT"}`, payload, jwt.SigningMethodHS256, f.signKey))
}

// signJWS returns header.payload.signature with the signature computed by
// method over the signing input; a nil method leaves it empty.
func signJWS(t testing.TB, header string, payload []byte, method jwt.SigningMethod, key any) string {
	t.Helper()
	input := seg.EncodeToString([]byte(header)) + "." + seg.EncodeToString(payload)
	if method == nil {
		return input + "."
	}
	sig, err := method.Sign(input, key)
	require.NoError(t, err)
	return input + "." + seg.EncodeToString(sig)
}

// sealJWE encrypts plaintext as a compact JWE whose protected header is
// exactly header (JSON), with AES-GCM under key and that header as AAD:
// authentic for whoever holds key, whatever the header says.
func sealJWE(t testing.TB, key []byte, header string, plaintext []byte) string {
	t.Helper()
	h := seg.EncodeToString([]byte(header))
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	iv := randomBytes(t, gcm.NonceSize())
	sealed := gcm.Seal(nil, iv, plaintext, []byte(h))
	n := len(plaintext)
	return h + ".." + seg.EncodeToString(iv) + "." + seg.EncodeToString(sealed[:n]) + "." + seg.EncodeToString(sealed[n:])
}

// rsaKey is generated once per test binary: it is slow under -race.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// sentinels are the domain errors; every failure wraps exactly one.
var sentinels = []error{
	domain.ErrMalformed, domain.ErrInvalid, domain.ErrExpired, domain.ErrRevoked,
	domain.ErrWrongTokenType, domain.ErrClientMismatch, domain.ErrDeviceLimitReached,
	domain.ErrRefreshReused, domain.ErrSessionNotFound, domain.ErrInvalidCredentials,
	domain.ErrInvalidArgument, domain.ErrUnavailable,
}

// matchesOnly reports whether err wraps one of want and no other sentinel.
func matchesOnly(err error, want ...error) bool {
	hit := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			hit++
			found := false
			for _, w := range want {
				found = found || w == s
			}
			if !found {
				return false
			}
		}
	}
	return hit == 1
}

// ---------------------------------------------------------------------
// Layer 2: the reference server over HTTP.
// ---------------------------------------------------------------------

// codeOf is the contract's error code of a token rejected with err.
func codeOf(err error) string {
	switch err {
	case domain.ErrExpired:
		return "token_expired"
	case domain.ErrRevoked:
		return "token_revoked"
	case domain.ErrWrongTokenType:
		return "wrong_token_type"
	case domain.ErrClientMismatch:
		return "client_mismatch"
	}
	return "invalid_token" // ErrMalformed, ErrInvalid
}

// send sends a request carrying the client's User-Agent and device header
// with h on top (an empty value removes a header) and returns the response
// unchecked: it may come from net/http itself rather than the contract.
func (c *client) send(t *testing.T, method, path string, h http.Header, body io.Reader) resp {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.s.URL+path, body)
	require.NoError(t, err)
	req.Header.Set("User-Agent", c.ua)
	if c.device != "" {
		req.Header.Set("X-Device-ID", c.device)
	}
	for k, v := range h {
		k = http.CanonicalHeaderKey(k)
		if len(v) == 0 {
			delete(req.Header, k)
			continue
		}
		req.Header[k] = v
	}
	res, err := c.hc.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

// expect checks a contract response: its status, its error code (also the
// "error" of a /verify answer) and, for a 401, the RFC 6750 challenge.
func expect(t *testing.T, name string, r resp, status int, code string) {
	t.Helper()
	if !assert.Equal(t, status, r.Status, "%s: %s", name, r.Body) {
		return
	}
	if status >= 400 {
		var m map[string]any
		if assert.NoError(t, json.Unmarshal(r.Body, &m), "%s: %s", name, r.Body) {
			assert.Equal(t, code, m["error"], "%s: %s", name, r.Body)
		}
	}
	if status == http.StatusUnauthorized {
		assert.Regexp(t, `^Bearer (realm="jwtauth", )?error="invalid_token", error_description="[^"\\]+"$`,
			r.Header.Get("WWW-Authenticate"), name)
	}
}

// reqCase is one HTTP request of an attack and its expected answer. code
// "" marks an answer of net/http itself (before the contract's handlers),
// checked by status and content type only.
type reqCase struct {
	name    string
	c       *client
	method  string // default GET
	path    string // default /auth/me
	token   string // Authorization: Bearer token, unless header sets it
	header  http.Header
	body    string
	chunked bool // send the body without Content-Length
	ctype   string
	status  int
	code    string
}

func (tc reqCase) run(t *testing.T) {
	t.Helper()
	method, path := tc.method, tc.path
	if method == "" {
		method = http.MethodGet
	}
	if path == "" {
		path = "/auth/me"
	}
	h := http.Header{}
	if tc.token != "" {
		h.Set("Authorization", "Bearer "+tc.token)
	}
	var body io.Reader
	if tc.body != "" {
		body = strings.NewReader(tc.body)
		if tc.chunked {
			body = io.MultiReader(body)
		}
		h.Set("Content-Type", "application/json")
	}
	if tc.ctype != "" {
		h.Set("Content-Type", tc.ctype)
	}
	for k, v := range tc.header {
		h[http.CanonicalHeaderKey(k)] = v
	}
	r := tc.c.send(t, method, path, h, body)
	if tc.code == "" {
		assert.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
		assert.Equal(t, "text/plain; charset=utf-8", r.Header.Get("Content-Type"), tc.name)
		return
	}
	checkResponse(t, method, path, r)
	expect(t, tc.name, r, tc.status, tc.code)
}

// step is one step of a stateful HTTP scenario.
type step struct {
	name   string
	do     func() resp
	status int
	code   string
}

func runSteps(t *testing.T, steps []step) int {
	t.Helper()
	for _, st := range steps {
		expect(t, st.name, st.do(), st.status, st.code)
	}
	return len(steps)
}

// TestAttackHTTP runs the attacks against the reference server, on SQLite
// and on PostgreSQL.
func TestAttackHTTP(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		f := newForger(t)
		s := start(t, merge(env, f.env(), map[string]string{
			"JWTAUTH_DEMO_USERS":          "alice:alice-password,bob:bob-password,carol:carol-password,dave:dave-password,erin:erin-password",
			"JWTAUTH_ROTATE_REFRESH":      "true",
			"JWTAUTH_REFRESH_REUSE_GRACE": "0s",
		}))
		phone := s.client(t, clientOpts{Device: "phone-1", UA: "Phone/1"})
		laptop := s.client(t, clientOpts{Device: "laptop-1", UA: "Laptop/1"})
		thief := s.client(t, clientOpts{Device: "phone-1", UA: "Phone/1", From: "127.0.0.2"})
		la := phone.login(t, "alice", "alice-password")
		lb := laptop.login(t, "bob", "bob-password")
		n := 0

		// Forged tokens, on GET /auth/me.
		for _, ft := range forgeTokens(t, f, la.AccessToken, lb.SessionID, func() int64 { return time.Now().Unix() }) {
			r := phone.me(t, ft.tok())
			if ft.want == nil {
				assert.Equal(t, http.StatusOK, r.Status, "%s: %s", ft.name, r.Body)
			} else {
				expect(t, ft.name, r, http.StatusUnauthorized, codeOf(ft.want))
			}
			n++
		}

		tok := la.AccessToken
		big := func(n int) string { return strings.Repeat("a", n) }
		manyHeaders := http.Header{}
		for i := range 3000 {
			manyHeaders.Set(fmt.Sprintf("X-Filler-%04d", i), big(24))
		}
		login := `{"username":"alice","password":"alice-password"}`
		deep := `{"username":"alice","password":"alice-password","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
		cases := []reqCase{
			// A stolen access token replayed from elsewhere.
			{name: "stolen token from 127.0.0.2", c: thief, token: tok, status: 401, code: "client_mismatch"},
			{name: "stolen token from 127.0.0.2, X-Forwarded-For 127.0.0.1", c: thief, token: tok, header: http.Header{"X-Forwarded-For": {"127.0.0.1"}}, status: 401, code: "client_mismatch"},
			{name: "stolen token, X-Forwarded-For twice", c: thief, token: tok, header: http.Header{"X-Forwarded-For": {"127.0.0.1", "127.0.0.1"}}, status: 401, code: "client_mismatch"},
			{name: "stolen token, X-Real-IP", c: thief, token: tok, header: http.Header{"X-Real-Ip": {"127.0.0.1"}}, status: 401, code: "client_mismatch"},
			{name: "stolen token, Forwarded (RFC 7239)", c: thief, token: tok, header: http.Header{"Forwarded": {"for=127.0.0.1"}}, status: 401, code: "client_mismatch"},
			{name: "stolen token, True-Client-IP", c: thief, token: tok, header: http.Header{"True-Client-Ip": {"127.0.0.1"}}, status: 401, code: "client_mismatch"},
			{name: "stolen token, CF-Connecting-IP", c: thief, token: tok, header: http.Header{"Cf-Connecting-Ip": {"127.0.0.1"}}, status: 401, code: "client_mismatch"},
			{name: "stolen token from another device", c: phone, token: tok, header: http.Header{"X-Device-Id": {"phone-2"}}, status: 401, code: "client_mismatch"},
			{name: "stolen token without a device header", c: phone, token: tok, header: http.Header{"X-Device-Id": nil}, status: 401, code: "client_mismatch"},
			{name: "device header sent twice", c: phone, token: tok, header: http.Header{"X-Device-Id": {"phone-1", "phone-1"}}, status: 401, code: "client_mismatch"},
			{name: "device header of invalid UTF-8", c: phone, token: tok, header: http.Header{"X-Device-Id": {"phone-1\xff"}}, status: 401, code: "client_mismatch"},
			{name: "device header of 129 characters", c: phone, token: tok, header: http.Header{"X-Device-Id": {"phone-1" + big(122)}}, status: 401, code: "client_mismatch"},
			{name: "stolen refresh token from another device", c: laptop, method: "POST", path: "/auth/refresh", body: `{"refresh_token":"` + la.RefreshToken + `"}`, status: 401, code: "client_mismatch"},
			{name: "refresh token as an access token", c: phone, token: la.RefreshToken, status: 401, code: "wrong_token_type"},
			{name: "access token as a refresh token", c: phone, method: "POST", path: "/auth/refresh", body: `{"refresh_token":"` + tok + `"}`, status: 401, code: "wrong_token_type"},

			// The Authorization header.
			{name: "Basic scheme", c: phone, header: http.Header{"Authorization": {"Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ="}}, status: 401, code: "invalid_token"},
			{name: "scheme without a token", c: phone, header: http.Header{"Authorization": {"Bearer"}}, status: 401, code: "invalid_token"},
			{name: "two spaces before the token", c: phone, header: http.Header{"Authorization": {"Bearer  " + tok}}, status: 401, code: "invalid_token"},
			{name: "a tab before the token", c: phone, header: http.Header{"Authorization": {"Bearer\t" + tok}}, status: 401, code: "invalid_token"},
			{name: "two Authorization headers", c: phone, header: http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}, status: 401, code: "invalid_token"},
			{name: "data after the token", c: phone, header: http.Header{"Authorization": {"Bearer " + tok + " extra"}}, status: 401, code: "invalid_token"},
			{name: "two tokens, comma-separated", c: phone, header: http.Header{"Authorization": {"Bearer " + tok + ", Bearer " + tok}}, status: 401, code: "invalid_token"},
			{name: "non-UTF-8 byte after the token", c: phone, header: http.Header{"Authorization": {"Bearer " + tok + "\xff"}}, status: 401, code: "invalid_token"},
			{name: "non-UTF-8 token", c: phone, header: http.Header{"Authorization": {"Bearer \xff\xfe\xfd"}}, status: 401, code: "invalid_token"},
			{name: "17,000-byte token", c: phone, token: big(17000), status: 401, code: "invalid_token"},
			{name: "control: scheme in lower case (RFC 6750 is case-insensitive)", c: phone, header: http.Header{"Authorization": {"bearer " + tok}}, status: 200, code: "-"},

			// A token anywhere but the Authorization header is ignored.
			{name: "token in the query string", c: phone, path: "/auth/me?access_token=" + url.QueryEscape(tok), status: 401, code: "invalid_token"},
			{name: "token in the query string of logout", c: phone, method: "POST", path: "/auth/logout?access_token=" + url.QueryEscape(tok), status: 401, code: "invalid_token"},
			{name: "token in a form body (RFC 6750 2.2)", c: phone, method: "POST", path: "/auth/logout", body: "access_token=" + url.QueryEscape(tok), ctype: "application/x-www-form-urlencoded", status: 401, code: "invalid_token"},
			{name: "token in a cookie", c: phone, header: http.Header{"Cookie": {"access_token=" + tok}}, status: 401, code: "invalid_token"},
			{name: "token in X-Access-Token", c: phone, header: http.Header{"X-Access-Token": {tok}}, status: 401, code: "invalid_token"},
			{name: "control: the token survived all of the above", c: phone, token: tok, status: 200, code: "-"},

			// Enormous headers and bodies.
			{name: "80 KiB header: net/http answers 431", c: phone, token: tok, header: http.Header{"X-Pad": {big(80 << 10)}}, status: 431},
			{name: "3000 headers: net/http answers 431", c: phone, token: tok, header: manyHeaders, status: 431},
			{name: "control: 60 KiB header, under net/http's effective limit (64 KiB + 4 KiB)", c: phone, token: tok, header: http.Header{"X-Pad": {big(60 << 10)}}, status: 200, code: "-"},
			{name: "token of exactly domain.MaxTokenLen: a JSON 401, not a 431", c: phone, token: big(domain.MaxTokenLen), status: 401, code: "invalid_token"},
			{name: "20 KiB token: a JSON 401, not a 431", c: phone, token: big(20 << 10), status: 401, code: "invalid_token"},
			{name: "64 KiB + 1 body", c: phone, method: "POST", path: "/auth/login", body: big(64<<10 + 1), status: 413, code: "invalid_request"},
			{name: "80 KiB body", c: phone, method: "POST", path: "/auth/verify", body: `{"token":"` + big(80<<10) + `"}`, status: 413, code: "invalid_request"},
			{name: "80 KiB body, chunked", c: phone, method: "POST", path: "/auth/refresh", body: `{"refresh_token":"` + big(80<<10) + `"}`, chunked: true, status: 413, code: "invalid_request"},
			{name: "200 KiB body", c: phone, method: "POST", path: "/auth/login", body: big(200 << 10), status: 413, code: "invalid_request"},

			// JSON: duplicate keys, trailing data, non-UTF-8, odd shapes.
			{name: "duplicate username", c: phone, method: "POST", path: "/auth/login", body: `{"username":"alice","username":"bob","password":"bob-password"}`, status: 400, code: "invalid_request"},
			{name: "duplicate password", c: phone, method: "POST", path: "/auth/login", body: `{"username":"alice","password":"x","password":"alice-password"}`, status: 400, code: "invalid_request"},
			{name: "duplicate key in another case", c: phone, method: "POST", path: "/auth/login", body: `{"username":"alice","USERNAME":"bob","password":"bob-password"}`, status: 400, code: "invalid_request"},
			{name: "duplicate key nested", c: phone, method: "POST", path: "/auth/login", body: `{"username":"alice","password":"alice-password","x":{"a":1,"a":2}}`, status: 400, code: "invalid_request"},
			{name: "duplicate refresh_token", c: phone, method: "POST", path: "/auth/refresh", body: `{"refresh_token":"x","refresh_token":"` + la.RefreshToken + `"}`, status: 400, code: "invalid_request"},
			{name: "duplicate token on verify", c: phone, method: "POST", path: "/auth/verify", body: `{"token":"x","token":"` + tok + `"}`, status: 400, code: "invalid_request"},
			{name: "trailing garbage", c: phone, method: "POST", path: "/auth/login", body: login + ` x`, status: 400, code: "invalid_request"},
			{name: "two objects", c: phone, method: "POST", path: "/auth/login", body: login + login, status: 400, code: "invalid_request"},
			{name: "trailing bracket", c: phone, method: "POST", path: "/auth/login", body: login + `]`, status: 400, code: "invalid_request"},
			{name: "trailing comma", c: phone, method: "POST", path: "/auth/login", body: `{"username":"alice","password":"alice-password",}`, status: 400, code: "invalid_request"},
			{name: "non-UTF-8 in a string", c: phone, method: "POST", path: "/auth/login", body: "{\"username\":\"al\xffice\",\"password\":\"alice-password\"}", status: 400, code: "invalid_request"},
			{name: "non-UTF-8 in a key", c: phone, method: "POST", path: "/auth/login", body: "{\"username\":\"alice\",\"pass\xc3\x28\":\"x\",\"password\":\"alice-password\"}", status: 400, code: "invalid_request"},
			{name: "Latin-1 declared as such", c: phone, method: "POST", path: "/auth/login", ctype: "application/json; charset=iso-8859-1", body: "{\"username\":\"al\xe9\",\"password\":\"alice-password\"}", status: 400, code: "invalid_request"},
			{name: "UTF-16", c: phone, method: "POST", path: "/auth/login", ctype: "application/json; charset=utf-16le", body: "{\x00\"\x00u\x00\"\x00:\x001\x00}\x00", status: 400, code: "invalid_request"},
			{name: "byte order mark", c: phone, method: "POST", path: "/auth/login", body: "\xef\xbb\xbf" + login, status: 400, code: "invalid_request"},
			{name: "nested 40 deep", c: phone, method: "POST", path: "/auth/login", body: deep, status: 400, code: "invalid_request"},
			{name: "an array", c: phone, method: "POST", path: "/auth/login", body: `[` + login + `]`, status: 400, code: "invalid_request"},
			{name: "null", c: phone, method: "POST", path: "/auth/login", body: `null`, status: 400, code: "invalid_request"},
			{name: "a string", c: phone, method: "POST", path: "/auth/refresh", body: `"` + la.RefreshToken + `"`, status: 400, code: "invalid_request"},
			{name: "username an array", c: phone, method: "POST", path: "/auth/login", body: `{"username":["alice"],"password":"alice-password"}`, status: 400, code: "invalid_request"},
			{name: "password a huge number", c: phone, method: "POST", path: "/auth/login", body: `{"username":"alice","password":1e999}`, status: 400, code: "invalid_request"},
			{name: "username a lone surrogate escape (a failed login)", c: phone, method: "POST", path: "/auth/login", body: `{"username":"\ud800","password":"alice-password"}`, status: 401, code: "invalid_credentials"},
			{name: "username with an escaped NUL (a failed login)", c: phone, method: "POST", path: "/auth/login", body: `{"username":"alice\u0000","password":"alice-password"}`, status: 401, code: "invalid_credentials"},

			// Content types: application/json only, so that no web page
			// can post here without a CORS preflight.
			{name: "form-encoded login", c: phone, method: "POST", path: "/auth/login", ctype: "application/x-www-form-urlencoded", body: "username=alice&password=alice-password", status: 415, code: "unsupported_media_type"},
			{name: "multipart login", c: phone, method: "POST", path: "/auth/login", ctype: "multipart/form-data; boundary=x", body: "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--x--\r\n", status: 415, code: "unsupported_media_type"},
			{name: "XML login", c: phone, method: "POST", path: "/auth/login", ctype: "application/xml", body: "<login><username>alice</username></login>", status: 415, code: "unsupported_media_type"},
			{name: "JSON declared text/plain (a CORS simple request)", c: laptop, method: "POST", path: "/auth/login", ctype: "text/plain", body: `{"username":"erin","password":"erin-password"}`, status: 415, code: "unsupported_media_type"},
			{name: "control: application/json with a charset", c: laptop, method: "POST", path: "/auth/login", ctype: "application/json; charset=utf-8", body: `{"username":"erin","password":"erin-password"}`, status: 200, code: "-"},
		}
		for _, tc := range cases {
			tc.run(t)
		}
		n += len(cases)

		// Raw requests net/http refuses before any handler runs.
		for _, raw := range []struct{ name, req string }{
			{"control character in Authorization", "GET /auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x01b\r\n\r\n"},
			{"NUL in X-Device-ID", "GET /auth/me HTTP/1.1\r\nHost: x\r\nX-Device-ID: a\x00b\r\nAuthorization: Bearer " + tok + "\r\n\r\n"},
			{"space in a header name", "GET /auth/me HTTP/1.1\r\nHost: x\r\nX Device: a\r\n\r\n"},
		} {
			r := s.rawRequest(t, "", raw.req)
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", raw.name, r.Body)
			n++
		}

		// A rotated-out refresh token replayed: the whole session dies.
		c0 := phone.login(t, "carol", "carol-password")
		var c1 map[string]any
		refreshBody := func(rt string) string { return `{"refresh_token":"` + rt + `"}` }
		steps := []step{
			{"control: refresh rotates", func() resp {
				r := phone.do(t, "POST", "/auth/refresh", "", refreshBody(c0.RefreshToken))
				if r.Status == http.StatusOK {
					c1 = r.Object(t)
				}
				return r
			}, 200, ""},
			{"rotated-out refresh token replayed", func() resp { return phone.refresh(t, c0.RefreshToken) }, 401, "refresh_reused"},
			{"after reuse: the newest refresh token", func() resp { return phone.refresh(t, c1["refresh_token"].(string)) }, 401, "token_revoked"},
			{"after reuse: the newest access token", func() resp { return phone.me(t, c1["access_token"].(string)) }, 401, "token_revoked"},
			{"after reuse: the first access token", func() resp { return phone.me(t, c0.AccessToken) }, 401, "token_revoked"},
			{"after reuse: verify the newest refresh token", func() resp {
				return phone.do(t, "POST", "/auth/verify", "", map[string]string{"token": c1["refresh_token"].(string)})
			}, 401, "token_revoked"},
		}

		// A deleted session, then logout everywhere.
		d1 := phone.login(t, "dave", "dave-password")
		d2 := laptop.login(t, "dave", "dave-password")
		steps = append(steps, []step{
			{"control: delete a session of one's own", func() resp { return laptop.do(t, "DELETE", "/auth/sessions/"+d1.SessionID, d2.AccessToken, nil) }, 204, ""},
			{"access token of a deleted session", func() resp { return phone.me(t, d1.AccessToken) }, 401, "token_revoked"},
			{"refresh token of a deleted session", func() resp { return phone.refresh(t, d1.RefreshToken) }, 401, "token_revoked"},
			{"logout with a token of a deleted session", func() resp { return phone.do(t, "POST", "/auth/logout", d1.AccessToken, nil) }, 401, "token_revoked"},
			{"deleting it again", func() resp { return laptop.do(t, "DELETE", "/auth/sessions/"+d1.SessionID, d2.AccessToken, nil) }, 404, "not_found"},
			{"control: logout all", func() resp { return laptop.do(t, "POST", "/auth/logout/all", d2.AccessToken, nil) }, 204, ""},
			{"access token after logout all", func() resp { return laptop.me(t, d2.AccessToken) }, 401, "token_revoked"},
			{"refresh token after logout all", func() resp { return laptop.refresh(t, d2.RefreshToken) }, 401, "token_revoked"},
		}...)

		// User A's token against user B's session.
		del := func(id string) func() resp {
			return func() resp { return phone.do(t, "DELETE", "/auth/sessions/"+id, la.AccessToken, nil) }
		}
		bobOK := func() resp { return laptop.me(t, lb.AccessToken) }
		steps = append(steps, []step{
			{"A deletes B's session", del(lb.SessionID), 404, "not_found"},
			{"control: B's session still works", bobOK, 200, ""},
			{"A deletes a session id of SQL", del(url.PathEscape("' OR 1=1 --")), 404, "not_found"},
			{"A deletes a session id of a path", del(url.PathEscape("../../" + lb.SessionID)), 404, "not_found"},
			{"A deletes B's session id in lower case", del(strings.ToLower(lb.SessionID)), 404, "not_found"},
			{"A deletes a 300-byte session id", del(big(300)), 404, "not_found"},
			{"A deletes a session id of NUL", del("%00"), 404, "not_found"},
			{"A uses B's refresh token", func() resp { return phone.refresh(t, lb.RefreshToken) }, 401, "client_mismatch"},
			{"control: A logs out A's other sessions", func() resp { return phone.do(t, "POST", "/auth/logout/others", la.AccessToken, nil) }, 204, ""},
			{"control: B's session still works after all that", bobOK, 200, ""},
			{"control: B's refresh token still works", func() resp { return laptop.refresh(t, lb.RefreshToken) }, 200, ""},
		}...)
		n += runSteps(t, steps)
		list := laptop.sessions(t, lb.AccessToken)
		require.Len(t, list, 1)
		assert.Equal(t, lb.SessionID, list[0]["id"])

		t.Logf("HTTP attack cases: %d", n)
	})
}

// TestAttackHTTPSweep: a server with an issuer and an audience; tokens of
// another issuer, and every single-bit flip and truncation of a genuine
// token, over HTTP. Token checks do not depend on the store: SQLite only.
func TestAttackHTTPSweep(t *testing.T) {
	t.Parallel()
	f := newForger(t)
	s := start(t, merge(f.env(), map[string]string{"JWTAUTH_ISSUER": "https://auth.example", "JWTAUTH_AUDIENCE": "api,admin"}))
	sibling := start(t, f.env()) // the same keys, no issuer
	c := s.client(t, clientOpts{Device: "d1"})
	lr := c.login(t, "alice", "alice-password")
	n := 0
	r := func(mut func(map[string]any)) string { return f.reseal(t, lr.AccessToken, mut) }
	for _, tc := range []reqCase{
		{name: "control: the genuine token", c: c, token: lr.AccessToken, status: 200, code: "-"},
		{name: "a token of a server sharing the keys, without issuer", c: c, token: sibling.client(t, clientOpts{Device: "d1"}).login(t, "alice", "alice-password").AccessToken, status: 401, code: "invalid_token"},
		{name: "iss of another issuer", c: c, token: r(set("iss", "https://evil.example")), status: 401, code: "invalid_token"},
		{name: "iss missing", c: c, token: r(set("iss", nil)), status: 401, code: "invalid_token"},
		{name: "aud of another audience", c: c, token: r(set("aud", []string{"web"})), status: 401, code: "invalid_token"},
		{name: "aud missing", c: c, token: r(set("aud", nil)), status: 401, code: "invalid_token"},
		{name: "control: aud naming one of the configured audiences", c: c, token: r(set("aud", "admin")), status: 200, code: "-"},
	} {
		tc.run(t)
		n++
	}

	// Every single-bit flip of every byte: the low seven bits (the token
	// stays ASCII, control characters included) through /auth/verify.
	tok := lr.AccessToken
	flipped := 0
	for i := range len(tok) {
		for bit := range 7 {
			b := []byte(tok)
			b[i] ^= 1 << bit
			r := c.do(t, http.MethodPost, "/auth/verify", "", map[string]string{"token": string(b)})
			if !assert.Equal(t, http.StatusUnauthorized, r.Status, "bit %d of byte %d: %s", bit, i, r.Body) {
				return
			}
			assert.Equal(t, map[string]any{"valid": false, "error": "invalid_token"}, r.Object(t), "bit %d of byte %d", bit, i)
			flipped++
		}
	}
	// Flips of the high bit make bytes JSON cannot carry (the body must be
	// UTF-8): they go in the Authorization header, which may hold them.
	for i := range len(tok) {
		b := []byte(tok)
		b[i] ^= 0x80
		expect(t, fmt.Sprintf("bit 7 of byte %d", i), c.me(t, string(b)), http.StatusUnauthorized, "invalid_token")
		flipped++
	}
	// Every truncation, in the Authorization header.
	for l := range len(tok) {
		expect(t, fmt.Sprintf("truncated to %d bytes", l), c.me(t, tok[:l]), http.StatusUnauthorized, "invalid_token")
	}
	wantMe(t, c.me(t, tok), "alice")
	n += flipped + len(tok) + 1
	t.Logf("HTTP sweep cases: %d (%d bit flips and %d truncations of a %d-byte token)", n, flipped, len(tok), len(tok))
}

// ---------------------------------------------------------------------
// Abuse resistance (issue 12): each case failed on the code before it.
// ---------------------------------------------------------------------

// TestAttackConcurrentGuesses: many guesses from one address at once
// check at most the bucket's worth of passwords (5, plus at most one token
// refilled meanwhile); the rest are 429 with Retry-After, the right
// password among them included. The bucket was once read before the
// password check and charged after, so every concurrent guess was checked.
func TestAttackConcurrentGuesses(t *testing.T) {
	t.Parallel()
	const burst, guesses = 5, 60
	s := start(t, map[string]string{"JWTAUTH_DEMO_USERS": twoUsers})
	attacker := s.client(t, clientOpts{Device: "a"})
	var mu sync.Mutex
	statuses := map[int]int{}
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for i := range guesses {
		password := fmt.Sprintf("guess-%d", i)
		if i == guesses-1 {
			password = "alice-password"
		}
		wg.Go(func() {
			ready.Wait()
			r := attacker.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": "alice", "password": password})
			if r.Status == http.StatusTooManyRequests {
				assert.NotEmpty(t, r.Header.Get("Retry-After"))
				assert.Equal(t, "too_many_requests", r.Object(t)["error"])
			}
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		})
	}
	ready.Done()
	wg.Wait()
	checked := statuses[http.StatusUnauthorized] + statuses[http.StatusOK]
	t.Logf("statuses of %d concurrent guesses: %v", guesses, statuses)
	assert.LessOrEqual(t, checked, burst+1, "passwords checked")
	assert.Equal(t, guesses, checked+statuses[http.StatusTooManyRequests], "only 200, 401 and 429: %v", statuses)
}

// TestAttackStrictJSON: a page on another origin can post text/plain (or
// a form) without a CORS preflight; such posts are 415 and take nothing
// from the victim's address bucket. A member name that encoding/json folds
// onto another ("uſername" is "username") is a duplicate: 400, not a
// login as the second name.
func TestAttackStrictJSON(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"JWTAUTH_DEMO_USERS": twoUsers})
	victim := s.client(t, clientOpts{Device: "v"})
	n := 0
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"} {
		for range 10 {
			for _, path := range []string{"/auth/login", "/auth/refresh", "/auth/verify"} {
				r := victim.send(t, http.MethodPost, path, http.Header{"Content-Type": {ct}},
					strings.NewReader(`{"username":"alice","password":"wrong","refresh_token":"x","token":"x"}`))
				expect(t, ct+" "+path, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
				n++
			}
		}
	}
	lr := victim.login(t, "alice", "alice-password")
	wantMe(t, victim.me(t, lr.AccessToken), "alice")

	for _, body := range []string{
		`{"username":"alice","uſername":"bob","password":"bob-password"}`,
		`{"username":"alice","u\u017fername":"bob","password":"bob-password"}`,
		`{"username":"bob","password":"x","passwordſ":"y","pa\u017fsword":"bob-password"}`,
	} {
		r := victim.do(t, http.MethodPost, "/auth/login", "", body)
		expect(t, body, r, http.StatusBadRequest, "invalid_request")
		n++
	}
	for path, body := range map[string]string{
		"/auth/refresh": `{"refresh_token":"` + lr.RefreshToken + `","refreſh_token":"x"}`,
		"/auth/verify":  `{"token":"` + lr.AccessToken + `","to\u212Aen":"x"}`,
	} {
		r := victim.do(t, http.MethodPost, path, "", body)
		expect(t, path, r, http.StatusBadRequest, "invalid_request")
		n++
	}
	t.Logf("%d cases", n)
}

// TestAttackExactExpiry: a token is refused from the second its exp
// names; the client was told expires_in. A 5s leeway on exp once kept a
// 2s token accepted 3.5s after issue. The clock skew applies to nbf and
// iat only.
func TestAttackExactExpiry(t *testing.T) {
	t.Parallel()
	s := start(t, map[string]string{"JWTAUTH_ACCESS_TTL": "2s", "JWTAUTH_DEMO_USERS": twoUsers})
	c := s.client(t, clientOpts{Device: "d"})
	issued := time.Now()
	lr := c.login(t, "alice", "alice-password")
	assert.EqualValues(t, 2, lr.ExpiresIn)
	wantMe(t, c.me(t, lr.AccessToken), "alice")
	time.Sleep(time.Until(issued.Add(2*time.Second + 100*time.Millisecond)))
	r := c.me(t, lr.AccessToken)
	expect(t, "2s token after 2.1s", r, http.StatusUnauthorized, "token_expired")
	r = c.do(t, http.MethodPost, "/auth/verify", "", map[string]string{"token": lr.AccessToken})
	expect(t, "verify after 2.1s", r, http.StatusUnauthorized, "token_expired")
}

// TestAttackSessionFlood: one account logging in again and again from
// new devices, with no device limit, keeps at most JWTAUTH_MAX_SESSIONS
// live sessions; /auth/sessions stays that short and the newest login
// works. Without the cap one user accumulated ~6,000 sessions, read by
// every login, refresh and logout of that user.
func TestAttackSessionFlood(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, env map[string]string) {
		s := start(t, merge(env, map[string]string{"JWTAUTH_DEMO_USERS": twoUsers, "JWTAUTH_MAX_SESSIONS": "4"}))
		base := s.client(t, clientOpts{Device: "d-0"})
		var last loginResp
		for i := range 20 {
			last = base.with(clientOpts{Device: fmt.Sprint("d-", i)}).login(t, "alice", "alice-password")
		}
		newest := base.with(clientOpts{Device: "d-19"})
		sessions := newest.sessions(t, last.AccessToken)
		assert.Len(t, sessions, 4)
		wantMe(t, newest.me(t, last.AccessToken), "alice")
		first := base.with(clientOpts{Device: "d-0"})
		lr := first.login(t, "bob", "bob-password")
		assert.Len(t, first.sessions(t, lr.AccessToken), 1, "another user is not affected")
	})
}
