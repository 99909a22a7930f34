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
