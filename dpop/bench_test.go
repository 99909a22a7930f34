package dpop

import (
	"crypto"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkValidate measures a whole proof check, ES256 and EdDSA, next to
// its floor in the same run: golang-jwt's verification of the proof's
// signature alone, which no validator can skip. The ratio of the two is
// what the parsing, thumbprint, URL and replay-cache work costs.
func BenchmarkValidate(b *testing.B) {
	ec, ed := ecKey(b), edKey(b)
	algs := []struct {
		name   string
		method jwt.SigningMethod
		key    crypto.Signer
	}{
		{"ES256", jwt.SigningMethodES256, ec},
		{"EdDSA", jwt.SigningMethodEdDSA, ed},
	}
	u := mustURL(b, target)
	for _, a := range algs {
		mintN := func(n int) []string {
			proofs := make([]string, n)
			for i := range proofs {
				proofs[i] = mint(b, a.method, a.key,
					map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(b, a.key.Public())},
					map[string]any{"jti": strconv.Itoa(i), "htm": "GET", "htu": target, "iat": t0.Unix(), "ath": AccessTokenHash("tok")})
			}
			return proofs
		}
		b.Run(a.name+"/signature-only", func(b *testing.B) {
			p := mintN(1)[0]
			dot := strings.LastIndexByte(p, '.')
			sig, err := b64.DecodeString(p[dot+1:])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := a.method.Verify(p[:dot], sig, a.key.Public()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(a.name+"/validate", func(b *testing.B) {
			proofs := mintN(b.N)
			v := newValidator(b, Config{ReplayCacheSize: b.N + 1})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := v.Validate(proofs[i], "GET", u, "tok"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
