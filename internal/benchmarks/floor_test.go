package benchmarks

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/internal/floor"
)

// BenchmarkFloor is the work no implementation of Authenticate can skip
// for a jwtauth access token (package floor): base64url-decoding the five
// parts of the JWE, AES-256-GCM open of the inner JWS, base64url-decoding
// its claims and signature, and HMAC-SHA256 over its signing input. It
// runs on a real token issued by the same assembly as
// BenchmarkAuthenticateBigcache, in the same package, so the ratio of the
// two comes from one run.
func BenchmarkFloor(b *testing.B) {
	f, token := newFloor(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if err := f.Check(token); err != nil {
			b.Fatal(err)
		}
	}
}

// newFloor returns a floor checker and a real access token it accepts,
// issued by the assembly of BenchmarkAuthenticateBigcache with the
// checker's keys.
func newFloor(tb testing.TB) (*floor.Checker, string) {
	tb.Helper()
	signKey, encKey := randomKey(tb), randomKey(tb)
	codec, cph := newCryptoWith(tb, signKey, encKey)
	svc, err := app.New(app.Config{UserFromToken: true},
		app.Deps[User]{Store: memoryBackend(tb).store, Codec: codec, Cipher: cph})
	require.NoError(tb, err)
	pair, err := svc.Login(context.Background(), "alice", alice, laptop)
	require.NoError(tb, err)
	f, err := floor.New(encKey, signKey)
	require.NoError(tb, err)
	require.NoError(tb, f.Check(pair.AccessToken), "the floor must accept a real token")
	return f, pair.AccessToken
}
