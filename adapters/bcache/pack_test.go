package bcache

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// unpackKey inverts packKey; that it exists proves packKey injective.
func unpackKey(p string) string {
	if len(p) == 1+17 && p[0] == tagSessionID {
		return ports.SessionKey(unpackID(p[1:]))
	}
	for _, s := range keyShapes {
		if p != "" && p[0] == s.tag {
			return s.prefix + p[1:] + s.suffix
		}
	}
	if p != "" && p[0] == tagRaw {
		return p[1:]
	}
	return "\xff invalid"
}

func FuzzPackKey(f *testing.F) {
	for _, k := range []string{
		"", "x", ports.GenerationKey("user-1", domain.Access), ports.GenerationKey("", domain.Refresh),
		ports.SessionKey(domain.NewID()), ports.SessionKey(""), "user:access:gen", "user::access:gen",
		"session", "\x01abc", "\x00", "user:a:refresh:gen:access:gen",
	} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		p := packKey(key)
		if got := unpackKey(p); got != key {
			t.Fatalf("unpackKey(packKey(%q)) = %q via %q", key, got, p)
		}
		if len(p) > len(key)+1 {
			t.Fatalf("packKey(%q) = %q is longer than the key plus a tag", key, p)
		}
	})
}

func FuzzPackValue(f *testing.F) {
	gen := domain.NewGeneration()
	for _, v := range []string{
		"", "x", gen, strings.ToUpper(gen), strings.Replace(gen, "-", "x", 1), "\x00\x01",
		"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-fffffffffffg",
		"0000000000000000000000000000000000000",
	} {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		orig := bytes.Clone(v)
		p := packValue(v)
		assert.Equal(t, orig, v, "packValue leaves its input alone")
		got, ok := unpackValue(p)
		if !ok || !bytes.Equal(got, orig) {
			t.Fatalf("unpackValue(packValue(%q)) = %q, %v", orig, got, ok)
		}
	})
}

func TestPackedSizes(t *testing.T) {
	key := ports.GenerationKey("user-123456", domain.Access)
	assert.Len(t, packKey(key), 1+len("user-123456"))
	assert.Len(t, packValue([]byte(domain.NewGeneration())), 1+16)
	assert.Len(t, packValue([]byte("raw")), 1+3)
	_, ok := unpackValue(nil)
	assert.False(t, ok)
	_, ok = unpackValue([]byte{valUUID, 1, 2})
	assert.False(t, ok)
	_, ok = unpackValue([]byte{7})
	assert.False(t, ok)
}

func TestPackIDIsInjective(t *testing.T) {
	seen := map[[17]byte]string{}
	for range 100_000 {
		id := domain.NewID()
		b, ok := packID(id)
		if !ok {
			t.Fatalf("packID(%q) refused a domain.NewID", id)
		}
		if other, dup := seen[b]; dup && other != id {
			t.Fatalf("%q and %q pack alike", id, other)
		}
		seen[b] = id
	}
	// Ids differing only in the last character's low bits stay distinct.
	a, _ := packID("AAAAAAAAAAAAAAAAAAAAAAAAAA")
	b, _ := packID("AAAAAAAAAAAAAAAAAAAAAAAAAB")
	if a == b {
		t.Fatal("the last character was lost")
	}
	for _, bad := range []string{"", "short", "aaaaaaaaaaaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAAAAAAAAAAA1", "AAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		if _, ok := packID(bad); ok {
			t.Errorf("packID(%q) accepted", bad)
		}
	}
}

// unpackID reverses packID.
func unpackID(b string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	out := make([]byte, idLen)
	for i := range idLen {
		bit := i * 5
		v := uint(b[bit/8])<<8 | uint(b[min(bit/8+1, len(b)-1)])
		out[i] = alphabet[(v>>(11-bit%8))&31]
	}
	return string(out)
}

// FuzzPackParts holds the lookups by parts to Get's: the same stored key,
// and the same answer when comparing a stored value with a generation.
func FuzzPackParts(f *testing.F) {
	gen := domain.NewGeneration()
	for _, s := range [][3]string{
		{"user-1", domain.NewID(), gen}, {"", "", ""}, {"a:access:gen", "session:x", strings.ToUpper(gen)},
		{"x", domain.NewID()[1:], gen[:35] + "g"}, {"u", strings.ToLower(domain.NewID()), gen + "0"},
	} {
		f.Add(s[0], s[1], s[2], gen)
	}
	f.Fuzz(func(t *testing.T, userID, sessionID, stored, gen string) {
		for _, typ := range []domain.TokenType{domain.Access, domain.Refresh} {
			if got, want := packGenerationKey(userID, typ), packKey(ports.GenerationKey(userID, typ)); got != want {
				t.Fatalf("packGenerationKey(%q, %s) = %q, want %q", userID, typ, got, want)
			}
		}
		if got, want := packSessionKey(sessionID), packKey(ports.SessionKey(sessionID)); got != want {
			t.Fatalf("packSessionKey(%q) = %q, want %q", sessionID, got, want)
		}
		for _, v := range []string{stored, gen} {
			p := packValue([]byte(v))
			u, ok := unpackValue(bytes.Clone(p))
			match, found := valueIs(p, gen)
			if found != ok || match != (ok && string(u) == gen) {
				t.Fatalf("valueIs(pack(%q), %q) = %v, %v; unpack gives %q, %v", v, gen, match, found, u, ok)
			}
		}
	})
}
