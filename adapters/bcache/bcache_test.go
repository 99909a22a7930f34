package bcache_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/bcache"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
	"github.com/jwtauth/jwtauth/ports/porttest"
)

func newCache(tb testing.TB, cfg bcache.Config) *bcache.Cache {
	tb.Helper()
	c, err := bcache.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { assert.NoError(tb, c.Close()) })
	return c
}

func TestCacheSuite(t *testing.T) {
	porttest.CacheSuite(t, func(t *testing.T) ports.Cache { return newCache(t, bcache.Config{}) })
}

func TestCacheSuiteSmall(t *testing.T) {
	porttest.CacheSuite(t, func(t *testing.T) ports.Cache {
		return newCache(t, bcache.Config{MaxEntries: 10, MaxMB: 1, Shards: 1})
	})
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     bcache.Config
		wantErr error
	}{
		{name: "zero value", cfg: bcache.Config{}},
		{name: "explicit", cfg: bcache.Config{TTL: time.Second, MaxEntries: 1, MaxMB: 1, Shards: 1}},
		{name: "TTL under a second", cfg: bcache.Config{TTL: 500 * time.Millisecond}, wantErr: domain.ErrInvalidArgument},
		{name: "negative TTL", cfg: bcache.Config{TTL: -time.Second}, wantErr: domain.ErrInvalidArgument},
		{name: "negative MaxEntries", cfg: bcache.Config{MaxEntries: -1}, wantErr: domain.ErrInvalidArgument},
		{name: "huge MaxEntries", cfg: bcache.Config{MaxEntries: 1 << 40}, wantErr: domain.ErrInvalidArgument},
		{name: "negative MaxMB", cfg: bcache.Config{MaxMB: -1}, wantErr: domain.ErrInvalidArgument},
		{name: "Shards not a power of two", cfg: bcache.Config{Shards: 48}, wantErr: domain.ErrInvalidArgument},
		{name: "negative Shards", cfg: bcache.Config{Shards: -2}, wantErr: domain.ErrInvalidArgument},
		{name: "shard over 4 GiB", cfg: bcache.Config{MaxMB: 8 << 10, Shards: 1}, wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := bcache.New(tt.cfg)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, c)
				return
			}
			require.NoError(t, err)
			assert.NoError(t, c.Close())
		})
	}
}

func TestTTL(t *testing.T) {
	t.Parallel()
	c := newCache(t, bcache.Config{TTL: time.Second})
	c.Set("k", []byte("v"))
	_, ok := c.Get("k")
	require.True(t, ok)
	// bigcache counts whole seconds: an entry goes within 1 to 3 seconds.
	require.Eventually(t, func() bool {
		_, ok := c.Get("k")
		return !ok
	}, 5*time.Second, 50*time.Millisecond, "the entry expires after its TTL")
}

func TestEvictsOldestWhenFull(t *testing.T) {
	c := newCache(t, bcache.Config{MaxEntries: 100, MaxMB: 1, Shards: 1})
	value := make([]byte, 1000)
	const n = 3000 // 3 MB into 1 MiB
	for i := range n {
		c.Set(fmt.Sprint("k", i), value)
	}
	_, ok := c.Get("k0")
	assert.False(t, ok, "the oldest entries are evicted")
	_, ok = c.Get(fmt.Sprint("k", n-1))
	assert.True(t, ok, "the newest entry is kept")
	assert.Less(t, c.Len(), n)
}

func TestOversizedValueIsDropped(t *testing.T) {
	c := newCache(t, bcache.Config{MaxEntries: 10, MaxMB: 1, Shards: 2})
	c.Set("k", []byte("small"))
	c.Set("k", make([]byte, 2<<20))
	_, ok := c.Get("k")
	assert.False(t, ok, "a value larger than a shard is dropped, the previous one gone")
	c.Set("k", []byte("small again"))
	v, ok := c.Get("k")
	require.True(t, ok)
	assert.Equal(t, "small again", string(v))
}

func TestGetReturnsACopy(t *testing.T) {
	c := newCache(t, bcache.Config{})
	gen := domain.NewGeneration()
	c.Set("raw", []byte("value"))
	c.Set("gen", []byte(gen))
	for _, k := range []string{"raw", "gen"} {
		v, ok := c.Get(k)
		require.True(t, ok)
		clear(v)
	}
	v, _ := c.Get("raw")
	assert.Equal(t, "value", string(v))
	v, _ = c.Get("gen")
	assert.Equal(t, gen, string(v))
}

func TestCloseIsIdempotent(t *testing.T) {
	c, err := bcache.New(bcache.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	c.Set("k", []byte("v"))
	v, ok := c.Get("k")
	assert.True(t, ok, "a closed cache still serves")
	assert.Equal(t, "v", string(v))
}

// TestMemoryPerEntry reports what a million cached generations cost. It
// asserts nothing about the figure. Run it with
//
//	JWTAUTH_BIG=1 go test -run TestMemoryPerEntry -v ./adapters/bcache/
func TestMemoryPerEntry(t *testing.T) {
	if os.Getenv("JWTAUTH_BIG") != "1" {
		t.Skip("set JWTAUTH_BIG=1 to fill a cache with a million entries")
	}
	const n = 1_000_000
	perEntry := func(a, b uint64) float64 { return float64(int64(b)-int64(a)) / n }
	// The default shard count first: Sys (memory obtained from the OS)
	// only grows, so it means something for the first measurement only.
	for i, shards := range []int{bcache.DefaultShards, 16, 256} {
		t.Run(fmt.Sprint("shards=", shards), func(t *testing.T) {
			var before, reserved, after runtime.MemStats
			settle()
			runtime.ReadMemStats(&before)
			c, err := bcache.New(bcache.Config{MaxEntries: n, Shards: shards})
			require.NoError(t, err)
			runtime.ReadMemStats(&reserved)
			for i := range n {
				c.Set(ports.GenerationKey(fmt.Sprintf("user-%d", i), domain.Access), []byte(domain.NewGeneration()))
			}
			settle()
			runtime.ReadMemStats(&after)
			held := c.Len()
			require.NoError(t, c.Close())
			runtime.KeepAlive(c)
			t.Logf("%d of %d generations held; bytes per entry: HeapInuse %.1f (%.1f reserved by New), HeapAlloc %.1f",
				held, n, perEntry(before.HeapInuse, after.HeapInuse), perEntry(before.HeapInuse, reserved.HeapInuse),
				perEntry(before.HeapAlloc, after.HeapAlloc))
			if i == 0 {
				t.Logf("process Sys growth %.1f bytes per entry, the filling loop's garbage included", perEntry(before.Sys, after.Sys))
			}
		})
	}
}

// settle collects garbage until the heap stops shrinking, so that a cache
// closed by the previous subtest (its cleanup goroutine exiting) is gone.
func settle() {
	var m runtime.MemStats
	last := ^uint64(0)
	for range 10 {
		runtime.GC()
		runtime.ReadMemStats(&m)
		if m.HeapAlloc >= last {
			return
		}
		last = m.HeapAlloc
		time.Sleep(10 * time.Millisecond)
	}
}

var sink []byte

func BenchmarkCacheGet(b *testing.B) {
	c := newCache(b, bcache.Config{})
	const users = 10_000
	keys := make([]string, users)
	for i := range keys {
		keys[i] = ports.GenerationKey(fmt.Sprint("user-", i), domain.Access)
		c.Set(keys[i], []byte(domain.NewGeneration()))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			v, ok := c.Get(keys[i%users])
			if !ok {
				b.Error(errors.New("miss"))
				return
			}
			sink = v
			i++
		}
	})
}

func BenchmarkCacheSet(b *testing.B) {
	c := newCache(b, bcache.Config{})
	const users = 10_000
	keys := make([]string, users)
	for i := range keys {
		keys[i] = ports.GenerationKey(fmt.Sprint("user-", i), domain.Access)
	}
	value := []byte(domain.NewGeneration())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Set(keys[i%users], value)
			i++
		}
	})
}

func TestHugeKeyIsNeverStored(t *testing.T) {
	c := newCache(t, bcache.Config{MaxEntries: 10, MaxMB: 1, Shards: 1})
	for _, n := range []int{4<<10 - 1, 4 << 10, 1<<16 - 2, 1 << 16} {
		key := strings.Repeat("k", n)
		c.Set(key, []byte("v"))
		v, ok := c.Get(key)
		if n < 4<<10 {
			assert.True(t, ok, "len %d", n)
			assert.Equal(t, "v", string(v))
		} else {
			assert.False(t, ok, "len %d", n)
		}
		c.Delete(key)
		_, ok = c.Get(key)
		assert.False(t, ok, "len %d", n)
	}
}

func TestLookupsByParts(t *testing.T) {
	c, err := bcache.New(bcache.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	gen, sid := domain.NewGeneration(), domain.NewID()
	c.Set(ports.GenerationKey("alice", domain.Access), []byte(gen))
	c.Set(ports.GenerationKey("alice", domain.Refresh), []byte("not-a-uuid"))
	c.Set(ports.SessionKey(sid), []byte("status"))
	c.Set(ports.SessionKey("odd id"), []byte("other"))

	match, found := c.GenerationIs("alice", domain.Access, gen)
	assert.True(t, match && found)
	match, found = c.GenerationIs("alice", domain.Access, domain.NewGeneration())
	assert.True(t, !match && found)
	match, found = c.GenerationIs("alice", domain.Refresh, "not-a-uuid")
	assert.True(t, match && found)
	_, found = c.GenerationIs("bob", domain.Access, gen)
	assert.False(t, found)
	_, found = c.GenerationIs(strings.Repeat("x", 4<<10), domain.Access, gen)
	assert.False(t, found)

	v, ok := c.SessionStatus(sid)
	assert.True(t, ok)
	assert.Equal(t, "status", string(v))
	v, ok = c.SessionStatus("odd id")
	assert.True(t, ok)
	assert.Equal(t, "other", string(v))
	c.Delete(ports.SessionKey(sid))
	_, ok = c.SessionStatus(sid)
	assert.False(t, ok)
}
