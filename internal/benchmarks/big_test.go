package benchmarks

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/bcache"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// big skips tb unless JWTAUTH_BIG=1.
func big(tb testing.TB) {
	tb.Helper()
	if os.Getenv("JWTAUTH_BIG") != "1" {
		tb.Skip("set JWTAUTH_BIG=1 to run the large-data measurements")
	}
}

// probes is how many users' tokens BenchmarkAuthenticateUncachedScale
// cycles through, so that lookups spread over the tables.
const probes = 1_000

// BenchmarkAuthenticateUncachedScale is Authenticate without a cache (a
// generation and a session lookup in PostgreSQL per call) on tables of
// 1,000 users and of 1,000,000 users (2,000,000 generations, 1,000,000
// sessions), cycling through the tokens of 1,000 random users. The cost
// must stay flat as the data grows. It needs JWTAUTH_BIG=1; loading the
// million users takes about 20 s per run.
func BenchmarkAuthenticateUncachedScale(b *testing.B) {
	big(b)
	for _, users := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprint("users=", users), func(b *testing.B) {
			be := postgresBackend(b, false)
			bulkLoad(b, be.db, users)
			svc := newService(b, be)
			picked := rand.Perm(users)[:probes] // distinct users
			tokens := make([]string, probes)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := w; i < probes; i += 8 {
						user := fmt.Sprint("user-", 1+picked[i])
						pair, err := svc.Login(context.Background(), user, alice, laptop)
						if err != nil {
							b.Error(err)
							return
						}
						tokens[i] = pair.AccessToken
					}
				})
			}
			wg.Wait()
			if b.Failed() {
				return
			}
			ctx := context.Background()
			for _, tok := range tokens { // warm up: the probed rows are read once
				_, err := svc.Authenticate(ctx, tok, laptop)
				require.NoError(b, err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := svc.Authenticate(ctx, tokens[i%probes], laptop); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// bulkLoad fills the jwtauth tables with users "user-1" to "user-n": two
// generations and one session each, then analyzes them.
func bulkLoad(tb testing.TB, db *sqlx.DB, n int) {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	for _, q := range []string{
		`INSERT INTO jwtauth_user_auth (user_id, token_type, generation, updated_at)
SELECT 'user-' || i, t, gen_random_uuid(), now()
FROM generate_series(1, $1) AS i, (VALUES ('access'), ('refresh')) AS tt(t)`,
		`INSERT INTO jwtauth_sessions (id, user_id, device_id, device_name, ip, created_at, last_seen_at, expires_at)
SELECT md5(i::text), 'user-' || i, 'phone', 'Firefox', '203.0.113.7', now(), now(), now() + interval '30 days'
FROM generate_series(1, $1) AS i`,
	} {
		_, err := db.ExecContext(ctx, q, n)
		require.NoError(tb, err)
	}
	_, err := db.ExecContext(ctx, `VACUUM ANALYZE jwtauth_user_auth, jwtauth_sessions`)
	require.NoError(tb, err)
	// Write the loaded pages out now rather than during the measurement.
	// Only superusers and pg_checkpoint members may; others skip it.
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		tb.Logf("no CHECKPOINT after loading: %v", err)
	}
	tb.Logf("loaded %d users in %v", n, time.Since(start).Round(time.Millisecond))
}

// TestCacheMemoryPerEntry fills a bigcache sized for 1,000,000 entries
// with 1,000,000 entries of the kinds Authenticate caches, and logs the
// heap they take per entry (the reservation bcache.New makes included):
// access generations of users "user-1" to "user-1000000", session statuses
// of random 26-character session ids, and half of each. The target is at
// most 100 bytes per entry; nothing is asserted but that the entries are
// held. It needs JWTAUTH_BIG=1.
func TestCacheMemoryPerEntry(t *testing.T) {
	big(t)
	const n = 1_000_000
	expiry := make([]byte, 8)
	binary.BigEndian.PutUint64(expiry, uint64(time.Now().Add(24*time.Hour).UnixNano()))
	generation := func(i int) (string, []byte) {
		return ports.GenerationKey(fmt.Sprint("user-", i+1), domain.Access), []byte(domain.NewGeneration())
	}
	session := func(i int) (string, []byte) {
		// The status app caches: revoked flag, expiry, user id hash.
		v := append(append([]byte{0}, expiry...), 0x81, 0x1c, 0x9d, 0xc5)
		return ports.SessionKey(domain.NewID()), v
	}
	for _, kind := range []struct {
		name  string
		entry func(i int) (string, []byte)
	}{
		{"generations", generation},
		{"sessions", session},
		{"mixed", func(i int) (string, []byte) {
			if i%2 == 0 {
				return generation(i / 2)
			}
			return session(i / 2)
		}},
	} {
		t.Run(kind.name, func(t *testing.T) {
			var before, after runtime.MemStats
			settle()
			runtime.ReadMemStats(&before)
			c, err := bcache.New(bcache.Config{MaxEntries: n})
			require.NoError(t, err)
			for i := range n {
				c.Set(kind.entry(i))
			}
			settle()
			runtime.ReadMemStats(&after)
			held := c.Len()
			require.NoError(t, c.Close())
			runtime.KeepAlive(c)
			perEntry := float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / n
			t.Logf("CACHE %s: %d of %d entries held, %.1f bytes per entry (HeapInuse), target <= 100", kind.name, held, n, perEntry)
			assert.Equal(t, n, held, "every entry is held")
		})
	}
}

// settle collects garbage until the heap stops shrinking.
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
