package benchmarks

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// devices is how many devices each benchmark user logs in from, in turn,
// with a limit of 3: most logins evict the least recently seen session,
// so a login reads the sessions, writes one, revokes one and notifies.
const devices = 5

// newLoginService returns a Service on the PostgreSQL store with a
// bigcache cache and a device limit of 3 (evict oldest).
func newLoginService(tb testing.TB) *app.Service[User] {
	tb.Helper()
	b := postgresBackend(tb, true)
	codec, cipher := newCrypto(tb)
	svc, err := app.New(app.Config{UserFromToken: true, DevicePolicy: domain.DevicePolicy{Limit: 3}},
		app.Deps[User]{Store: b.store, Codec: codec, Cipher: cipher, Cache: b.cache})
	require.NoError(tb, err)
	return svc
}

// clients are the devices of the login benchmarks.
var clients = func() [devices]domain.ClientInfo {
	var c [devices]domain.ClientInfo
	for i := range c {
		c[i] = domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: fmt.Sprint("device-", i), DeviceName: "Firefox"}
	}
	return c
}()

// BenchmarkLoginPostgres is Issue (Login) on PostgreSQL: device policy,
// session write and revocation in one transaction locked per user, then
// two tokens signed and encrypted. It reports logins/s.
//
//   - callers=1: one caller.
//   - callers=8: eight concurrent callers, each logging in its own user;
//     different users must not block each other.
//   - callers=8,user=1: eight concurrent callers logging in one user, whose
//     logins serialize on the per-user lock.
func BenchmarkLoginPostgres(b *testing.B) {
	for _, bc := range []struct {
		name     string
		callers  int
		sameUser bool
	}{
		{"callers=1", 1, false},
		{"callers=8", 8, false},
		{"callers=8,user=1", 8, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			svc := newLoginService(b)
			b.ReportAllocs()
			var done atomic.Int64 // logins claimed so far
			var wg sync.WaitGroup
			b.ResetTimer()
			for c := range bc.callers {
				user := fmt.Sprint("user-", c)
				if bc.sameUser {
					user = "user-0"
				}
				wg.Go(func() {
					ctx := context.Background()
					for i := 0; done.Add(1) <= int64(b.N); i++ {
						if _, err := svc.Login(ctx, user, alice, clients[i%devices]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
