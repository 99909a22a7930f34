package jwtcodec

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

type decodeUser struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles,omitempty"`
	Level int      `json:"level"`
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
	}
	user := &decodeUser{Name: "Ålice", Roles: []string{"a"}, Level: 3}
	signed, err := json.Marshal(newClaims(c, user))
	require.NoError(t, err)
	c.DeviceID = "dev<&>ice" // escaped by json.Marshal
	escaped, err := json.Marshal(newClaims(c, user))
	require.NoError(t, err)
	c.Audience, c.Issuer, c.IP, c.DeviceID, c.RefreshCounter, c.Type = nil, "", netip.Addr{}, "laptop", 0, domain.Access
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
	gotErr := got.decode(p)
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
	}
}

func TestDecodeFastPathTakesSignedPayloads(t *testing.T) {
	for _, p := range decodeSeeds(t)[:2] {
		c := &claims{User: &decodeUser{}}
		assert.True(t, c.decodeFast(p), "payload %q", p)
	}
}

// FuzzDecode checks that decode and json.Unmarshal agree on any payload.
func FuzzDecode(f *testing.F) {
	for _, p := range decodeSeeds(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		checkDecode(t, p, func() any { return &decodeUser{} })
		checkDecode(t, p, func() any { return new(skipJSON) })
	})
}
