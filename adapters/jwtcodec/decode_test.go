package jwtcodec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

type decodeUser struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles,omitempty"`
	Level int      `json:"level"`
}

// rawUser decodes itself, keeping a copy of its JSON: decodeFast calls
// its UnmarshalJSON directly, encoding/json through reflection.
type rawUser struct{ JSON string }

func (u *rawUser) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return errors.New("rawUser: no strings")
	}
	u.JSON = string(b)
	return nil
}

// decodeSeeds are payloads decode must read as encoding/json does: the
// ones Sign writes, and variations that take the fallback.
func decodeSeeds(t testing.TB) [][]byte {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	c := domain.Claims{
		Issuer: "https://issuer.example", Audience: []string{"api", "web"}, Subject: "alice",
		ExpiresAt: now.Add(time.Hour), NotBefore: now, IssuedAt: now, ID: domain.NewID(),
		Type: domain.Refresh, SessionID: domain.NewID(), Generation: domain.NewGeneration(),
		IP: netip.MustParseAddr("2001:db8::1"), DeviceID: "device-1", RefreshCounter: 7,
		JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
	}
	user := &decodeUser{Name: "Ålice", Roles: []string{"a"}, Level: 3}
	signed, err := json.Marshal(newClaims(c, user))
	require.NoError(t, err)
	c.DeviceID = "dev<&>ice" // escaped by json.Marshal
	escaped, err := json.Marshal(newClaims(c, user))
	require.NoError(t, err)
	c.Audience, c.Issuer, c.IP, c.DeviceID, c.RefreshCounter, c.Type, c.JKT = nil, "", netip.Addr{}, "laptop", 0, domain.Access, ""
	plain, err := json.Marshal(newClaims(c, &decodeUser{Name: "Alice"}))
	require.NoError(t, err)
	seeds := [][]byte{signed, plain, escaped}
	for _, s := range []string{
		``, `null`, `{}`, ` { } `, `[]`, `"x"`, `{"sub":"a"}x`, `{"sub":"a",}`, `{"sub" : "a" , "exp" : 12 }`,
		`{"sub":"a","sub":"b"}`, `{"SUB":"a"}`, `{"Sub":"a","sub":"b"}`, `{"sub":"\u0061"}`, `{"sub":"a\"b"}`,
		`{"sub":1}`, `{"sub":null}`, `{"sub":"\xff"}`, `{"sub":"é"}`, `{"sub":"a` + "\x01" + `"}`,
		`{"exp":1.5}`, `{"exp":-3}`, `{"exp":"1"}`, `{"exp":null}`, `{"exp":1e3}`, `{"exp":01}`, `{"exp":1e400}`,
		`{"exp":9007199254740993}`, `{"exp":true}`, `{"exp":}`, `{"exp":1`, `{"exp"}`, `{"exp":1 2}`,
		`{"rfc":1}`, `{"rfc":-1}`, `{"rfc":1.0}`, `{"rfc":18446744073709551616}`, `{"rfc":"1"}`, `{"rfc":1e2}`,
		`{"aud":"x"}`, `{"aud":["x","y"]}`, `{"aud":[1]}`, `{"aud":null}`, `{"aud":{}}`, `{"aud":["x",]}`,
		`{"ip":""}`, `{"ip":"1.2.3.4"}`, `{"ip":"bad"}`, `{"ip":1}`, `{"ip":"::ffff:1.2.3.4"}`,
		`{"usr":{"name":"A","roles":["r"]}}`, `{"usr":null}`, `{"usr":"x"}`, `{"usr":{"level":"x"}}`,
		`{"usr":{"name":"}"}}`, `{"usr":{"name":"\"}"}}`, `{"usr":[}`, `{"usr":{"x":[1,{"y":2}]}}`,
		`{"exp":-0}`, `{"exp":1.}`, `{"exp":.5}`, `{"exp":1e+}`, `{"exp":-}`, `{"exp":1E-2}`, `{"exp":0.5e+1}`,
		`{"rfc":0}`, `{"rfc":-0}`, `{"rfc":00}`, `{"usr":nul}`, `{"usr":{"name":"A"}`, `{"usr":{}}}`,
		`{"usr":{}} `, `{"usr":{"name":"A"},"usr":{"level":2}}`, `{"other":1,"sub":"a"}`, `{"typ":"access"}`,
		`{"cnf":{"jkt":"k"}}`, `{"cnf": { "jkt" : "k" } }`, `{"cnf":{}}`, `{"cnf":null}`, `{"cnf":{"JKT":"k"}}`,
		`{"cnf":{"jkt":"k","x5t#S256":"y"}}`, `{"cnf":{"jkt":1}}`, `{"cnf":{"jkt":"k\u0041"}}`, `{"cnf":"k"}`,
		`{"cnf":{"jkt":"k"},"cnf":{"jkt":"j"}}`, `{"cnf":{"jkt":"k"}`, `{"cnf":{"jkt":"k"`, `{"cnf":{"jkt"}}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// checkDecode decodes p with decode and with json.Unmarshal, into fresh
// claims holding user (a *decodeUser or *skipJSON), and compares.
func checkDecode(t *testing.T, p []byte, newUser func() any) {
	t.Helper()
	got, want := &claims{User: newUser()}, &claims{User: newUser()}
	gotErr := got.decode(p, string(p))
	wantErr := json.Unmarshal(p, want)
	require.Equal(t, wantErr == nil, gotErr == nil, "payload %q: decode error %v, json error %v", p, gotErr, wantErr)
	if wantErr == nil {
		assert.Equal(t, want, got, "payload %q", p)
	}
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, p := range decodeSeeds(t) {
		checkDecode(t, p, func() any { return &decodeUser{} })
		checkDecode(t, p, func() any { return new(skipJSON) })
		checkDecode(t, p, func() any { return new(rawUser) })
	}
}

func TestFlatObject(t *testing.T) {
	for _, p := range []string{`{}`, ` { } `, `{"a":"b"}`, `{"a":1,"b":-2.5e3,"c":true,"d":false,"e":null}`,
		`{ "a" : "é" , "a" : 0 }`} {
		assert.True(t, flatObject([]byte(p)), p)
		assert.True(t, json.Valid([]byte(p)), p)
	}
	for _, p := range []string{``, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`, `{"a":nul}`, `{"a":truex}`,
		`{"a":01}`, `{"a":"\n"}`, `{"a":{}}`, `{"a":[1]}`, `{a:1}`, `{"a":1}x`, `{"a":1 "b":2}`, `{"a":-}`, `{"a":"` + "\xff" + `"}`} {
		assert.False(t, flatObject([]byte(p)), p)
	}
}

func TestDecodeFastPathTakesSignedPayloads(t *testing.T) {
	for _, p := range decodeSeeds(t)[:2] {
		c := &claims{User: &decodeUser{}}
		assert.True(t, c.decodeFast(p, string(p)), "payload %q", p)
	}
}

// FuzzDecode checks that decode and json.Unmarshal agree on any payload.
func FuzzDecode(f *testing.F) {
	for _, p := range decodeSeeds(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if flatObject(p) && !json.Valid(p) {
			t.Fatalf("flatObject(%q) but not valid JSON", p)
		}
		checkDecode(t, p, func() any { return &decodeUser{} })
		checkDecode(t, p, func() any { return new(skipJSON) })
		checkDecode(t, p, func() any { return new(rawUser) })
	})
}

// TestValidMatchesValidator holds Codec.valid to golang-jwt's Validator
// (plus exp without leeway): over every combination of times around the
// leeway bounds, issuer, audience and jwtauth claims, they agree.
func TestValidMatchesValidator(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) numericDate { return numericDate{*jwt.NewNumericDate(now.Add(d))} }
	times := []numericDate{{}, at(-time.Hour), at(-DefaultLeeway - time.Second), at(-DefaultLeeway), at(-time.Second),
		at(0), at(time.Second), at(DefaultLeeway), at(DefaultLeeway + time.Second), at(time.Hour)}
	codecs := map[string]Config{
		"plain":    {},
		"issuer":   {Issuer: "iss"},
		"audience": {Audience: []string{"api", ""}},
	}
	n := 0
	for name, cfg := range codecs {
		cfg.Key, cfg.Now = make([]byte, 32), func() time.Time { return now }
		c, err := New(cfg)
		require.NoError(t, err)
		for _, exp := range times {
			for _, nbf := range times {
				for _, iat := range times {
					for _, iss := range []string{"", "iss", "other"} {
						for _, aud := range [][]string{nil, {""}, {"api"}, {"web"}, {"web", "api"}} {
							for _, typ := range []string{"access", "refresh", "other"} {
								for _, sub := range []string{"", "alice"} {
									cl := claims{ExpiresAt: exp, NotBefore: nbf, IssuedAt: iat, Issuer: iss,
										Audience: aud, Type: typ, Subject: sub, SessionID: "s", Generation: "g"}
									want := c.validator.Validate(&cl) == nil && !exp.IsZero() && now.Before(exp.Time)
									require.Equal(t, want, c.valid(&cl, now), "%s: %+v", name, cl)
									n++
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d combinations", n)
}

// TestParseConcurrent parses good and tampered tokens of three HMAC
// methods from many goroutines at once: the pooled HMAC states and
// payload buffers are never shared between calls (run with -race).
func TestParseConcurrent(t *testing.T) {
	now := time.Now()
	cl := domain.Claims{Subject: "alice", ExpiresAt: now.Add(time.Hour), IssuedAt: now, NotBefore: now,
		Type: domain.Access, SessionID: domain.NewID(), Generation: domain.NewGeneration(), DeviceID: "laptop"}
	type job struct {
		c     *Codec
		token []byte
		ok    bool
	}
	var jobs []job
	for _, m := range []struct {
		name string
		size int
	}{{"HS256", 32}, {"HS384", 48}, {"HS512", 64}} {
		c, err := New(Config{Method: m.name, Key: bytes.Repeat([]byte{byte(m.size)}, m.size)})
		require.NoError(t, err)
		for i := range 4 {
			cl.DeviceID = fmt.Sprintf("device-%d", i)
			tok, err := c.Sign(cl, &decodeUser{Name: cl.DeviceID})
			require.NoError(t, err)
			bad := []byte(tok)
			bad[len(bad)-2] ^= 1 // the signature's last full character
			jobs = append(jobs, job{c, []byte(tok), true}, job{c, bad, false})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				j := jobs[(g+i)%len(jobs)]
				var u decodeUser
				got, err := j.c.Parse(j.token, &u)
				if (err == nil) != j.ok || (j.ok && (u.Name != got.DeviceID || got.Subject != "alice")) {
					errs <- fmt.Errorf("%s: ok %v, got %+v %+v, %v", j.token[:20], j.ok, got, u, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPlainString holds plainString to the byte-by-byte rule it speeds up:
// every byte value, at every offset of a string longer than two words.
func TestPlainString(t *testing.T) {
	reference := func(p []byte) (s []byte, next int, ok bool) {
		for j := 1; j < len(p); j++ {
			switch b := p[j]; {
			case b == '"':
				return p[1:j], j + 1, utf8.Valid(p[1:j])
			case b == '\\' || b < 0x20:
				return nil, 0, false
			}
		}
		return nil, 0, false
	}
	for b := range 256 {
		for at := range 19 {
			body := []byte(strings.Repeat("a", 19))
			body[at] = byte(b)
			for _, p := range [][]byte{
				append(append([]byte{'"'}, body...), '"', ','),
				append([]byte{'"'}, body...), // unterminated unless b is the quote
			} {
				s, next, ok := plainString(p, 0)
				ws, wnext, wok := reference(p)
				require.Equal(t, wok, ok, "%q", p)
				if ok {
					require.Equal(t, ws, s, "%q", p)
					require.Equal(t, wnext, next, "%q", p)
				}
			}
		}
	}
}
