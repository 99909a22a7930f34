package porttest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// CacheSuite is the contract of ports.Cache. newCache returns an empty
// cache, registering its clean-up with t.Cleanup; it is called once per
// subtest. Run it with -race: one subtest drives Get, Set, Delete and
// Reset from 50 goroutines at once.
func CacheSuite(t *testing.T, newCache func(t *testing.T) ports.Cache) {
	t.Helper()

	t.Run("GetMissing", func(t *testing.T) {
		c := newCache(t)
		v, ok := c.Get("missing")
		assert.False(t, ok)
		assert.Nil(t, v)
	})

	t.Run("SetGet", func(t *testing.T) {
		c := newCache(t)
		c.Set("k", []byte("v"))
		v, ok := c.Get("k")
		require.True(t, ok)
		assert.Equal(t, []byte("v"), v)
	})

	t.Run("Overwrite", func(t *testing.T) {
		c := newCache(t)
		c.Set("k", []byte("first"))
		c.Set("k", []byte("second, longer"))
		c.Set("k", []byte("3"))
		v, ok := c.Get("k")
		require.True(t, ok)
		assert.Equal(t, []byte("3"), v)
	})

	t.Run("EmptyValueIsAHit", func(t *testing.T) {
		c := newCache(t)
		c.Set("k", []byte{})
		v, ok := c.Get("k")
		assert.True(t, ok)
		assert.Empty(t, v)
	})

	t.Run("ValuesRoundTripExactly", func(t *testing.T) {
		c := newCache(t)
		gen := domain.NewGeneration()
		values := map[string][]byte{
			ports.GenerationKey("user-1", domain.Access):  []byte(gen),
			ports.GenerationKey("user-1", domain.Refresh): []byte(strings.ToUpper(gen)),
			ports.GenerationKey("user-2", domain.Access):  []byte("{" + gen + "}"),
			ports.GenerationKey("user-3", domain.Access):  []byte(strings.ReplaceAll(gen, "-", "_")),
			ports.GenerationKey("user-4", domain.Access):  []byte("0123456789abcdef0123456789abcdef0123"),
			ports.SessionKey(domain.NewID()):              {0, 1, 2, 0xff, 0, '\n', 0},
			"binary":                                      bytes.Repeat([]byte{0, 0xfe}, 512),
			"large":                                       bytes.Repeat([]byte("x"), 4<<10),
		}
		for k, v := range values {
			c.Set(k, v)
		}
		for k, want := range values {
			got, ok := c.Get(k)
			if assert.True(t, ok, "key %q", k) {
				assert.Equal(t, want, got, "key %q", k)
			}
		}
	})

	t.Run("DistinctKeys", func(t *testing.T) {
		c := newCache(t)
		// Keys that a cache packing or prefixing keys could confuse.
		keys := []string{
			"", "u", "U", "user:", "session:", "session", "user::access:gen",
			"user:a:access:gen", "user:a:refresh:gen", "user:a:access:gen:access:gen",
			"user:user:a:access:gen", ":access:gen", "user:access:gen", "a",
			"session:a", "session:session:a", "\x00a", "\x01a", "\x02a", "\x03a",
			"\x00", "\x01", "user:\x00:access:gen", "ключ", "user:ключ:access:gen",
		}
		for i, k := range keys {
			c.Set(k, fmt.Appendf(nil, "value %d", i))
		}
		for i, k := range keys {
			got, ok := c.Get(k)
			if assert.True(t, ok, "key %q", k) {
				assert.Equal(t, fmt.Sprintf("value %d", i), string(got), "key %q", k)
			}
		}
		c.Delete("user:a:access:gen", "session:a", "\x01a")
		for i, k := range keys {
			_, ok := c.Get(k)
			deleted := k == "user:a:access:gen" || k == "session:a" || k == "\x01a"
			assert.Equal(t, !deleted, ok, "key %d %q", i, k)
		}
	})

	t.Run("DeleteMany", func(t *testing.T) {
		c := newCache(t)
		for i := range 5 {
			c.Set(fmt.Sprint("k", i), []byte("v"))
		}
		c.Delete("k1", "k3", "missing", "k1")
		c.Delete()
		for i := range 5 {
			_, ok := c.Get(fmt.Sprint("k", i))
			assert.Equal(t, i != 1 && i != 3, ok, "k%d", i)
		}
	})

	t.Run("DeleteMissing", func(t *testing.T) {
		c := newCache(t)
		c.Delete("missing")
		c.Set("k", []byte("v"))
		c.Delete("k")
		c.Delete("k")
		_, ok := c.Get("k")
		assert.False(t, ok)
	})

	t.Run("SetAfterDelete", func(t *testing.T) {
		c := newCache(t)
		c.Set("k", []byte("old"))
		c.Delete("k")
		c.Set("k", []byte("new"))
		v, ok := c.Get("k")
		require.True(t, ok)
		assert.Equal(t, []byte("new"), v)
	})

	t.Run("Reset", func(t *testing.T) {
		c := newCache(t)
		for i := range 100 {
			c.Set(fmt.Sprint("k", i), []byte("v"))
		}
		c.Reset()
		for i := range 100 {
			_, ok := c.Get(fmt.Sprint("k", i))
			assert.False(t, ok, "k%d", i)
		}
		c.Reset()
		c.Set("k1", []byte("after"))
		v, ok := c.Get("k1")
		require.True(t, ok, "the cache is usable after Reset")
		assert.Equal(t, []byte("after"), v)
	})

	t.Run("SetCopiesValue", func(t *testing.T) {
		c := newCache(t)
		v := []byte("0123456789abcdef")
		gen := []byte(domain.NewGeneration())
		want := bytes.Clone(gen)
		c.Set("k", v)
		c.Set("gen", gen)
		copy(v, "XXXXXXXXXXXXXXXX")
		copy(gen, "XXXXXXXXXXXXXXXX")
		got, ok := c.Get("k")
		require.True(t, ok)
		assert.Equal(t, []byte("0123456789abcdef"), got)
		got, ok = c.Get("gen")
		require.True(t, ok)
		assert.Equal(t, want, got)
	})

	t.Run("Concurrent", func(t *testing.T) {
		c := newCache(t)
		const (
			goroutines = 50
			ops        = 400
			keys       = 64
		)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range ops {
					key := fmt.Sprint("key-", (g*7+i)%keys)
					switch {
					case i%97 == 96 && g%10 == 0:
						c.Reset()
					case i%5 == 0:
						c.Delete(key, fmt.Sprint("key-", (g+i)%keys))
					case i%3 == 0:
						c.Set(key, fmt.Appendf(nil, "%s=%d/%d", key, g, i))
					default:
						// Any hit must be a value written for this key,
						// whole: no torn or crossed entries.
						if v, ok := c.Get(key); ok {
							if !bytes.HasPrefix(v, []byte(key+"=")) {
								t.Errorf("Get(%q) = %q", key, v)
							}
						}
					}
				}
			})
		}
		wg.Wait()
		c.Set("key-0", []byte("final"))
		v, ok := c.Get("key-0")
		require.True(t, ok)
		assert.Equal(t, []byte("final"), v)
	})
}
