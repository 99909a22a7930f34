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
	signKey, encKey := randomKey(b), randomKey(b)
	codec, cph := newCryptoWith(b, signKey, encKey)
	svc, err := app.New(app.Config{UserFromToken: true},
		app.Deps[User]{Store: memoryBackend(b).store, Codec: codec, Cipher: cph})
	require.NoError(b, err)
	pair, err := svc.Login(context.Background(), "alice", alice, laptop)
	require.NoError(b, err)
	token := pair.AccessToken

	f, err := floor.New(encKey, signKey)
	require.NoError(b, err)
	require.NoError(b, f.Check(token), "the floor must accept a real token")

	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if err := f.Check(token); err != nil {
			b.Fatal(err)
		}
	}
}
