package sqlstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// The PostgreSQL benchmarks skip without a server, unless CI=true (see
// internal/pgtest).

func BenchmarkPostgresGeneration(b *testing.B) {
	st := sqlstore.NewPostgres(openPostgres(b))
	ctx := context.Background()
	_, err := login(ctx, st, "alice", "phone", limit3)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Generation(ctx, "alice", domain.Access); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPostgresSession(b *testing.B) {
	st := sqlstore.NewPostgres(openPostgres(b))
	ctx := context.Background()
	s, err := login(ctx, st, "alice", "phone", limit3)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Session(ctx, s.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkLogin measures UpdateUser doing a device-policy login, cycling
// over 5 devices of one user with a limit of 3, so most logins evict.
func benchmarkLogin(b *testing.B, st ports.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := login(ctx, st, "alice", fmt.Sprintf("device-%d", i%5), limit3); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkPostgresLogin(b *testing.B) {
	benchmarkLogin(b, sqlstore.NewPostgres(openPostgres(b)))
}

func BenchmarkSQLiteLogin(b *testing.B) {
	benchmarkLogin(b, sqlstore.NewSQLite(openSQLite(b)))
}

// BenchmarkPostgresLoginParallel runs 8 callers (at least GOMAXPROCS), each
// logging in its own user, to show that users do not serialize.
func BenchmarkPostgresLoginParallel(b *testing.B) {
	const callers = 8
	st := sqlstore.NewPostgres(openPostgres(b))
	var next atomic.Int64
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		user := fmt.Sprintf("user-%d", next.Add(1))
		ctx := context.Background()
		i := 0
		for pb.Next() {
			if _, err := login(ctx, st, user, fmt.Sprintf("device-%d", i%5), limit3); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
