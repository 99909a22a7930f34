package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// baselineClaims are the same claims as a jwtauth access token, as a
// hand-rolled golang-jwt middleware would declare them.
type baselineClaims struct {
	jwt.RegisteredClaims
	Type       string `json:"typ"`
	SessionID  string `json:"sid"`
	Generation string `json:"gen"`
	IP         string `json:"ip"`
	Device     string `json:"dev"`
	User       User   `json:"usr"`
}

// BenchmarkBaselineParseWithClaims is plain golang-jwt v5 ParseWithClaims
// of an HS256 token with the same claims: no encryption, no binding, no
// revocation. BenchmarkAuthenticate is measured against it.
func BenchmarkBaselineParseWithClaims(b *testing.B) {
	k := key(b)
	now := time.Now()
	claims := baselineClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: "alice", ID: "MV6RMGQ7AXQCMO4EZ7JBX5YNDU",
			ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
			NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now),
		},
		Type: "access", SessionID: "4LZ3TKVCQZJ2JH6X3Q5W6ZLMHE", Generation: "0b8f4e1c-3c1d-4f6e-9b7a-2d5e8f1a3c4b",
		IP: "203.0.113.7", Device: "laptop", User: User{Name: "Alice", Role: "admin"},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(k)
	require.NoError(b, err)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	keyFunc := func(*jwt.Token) (any, error) { return k, nil }
	b.ReportAllocs()
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		var c baselineClaims
		if _, err := parser.ParseWithClaims(tok, &c, keyFunc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is the full check of an encrypted access token with
// a warm cache and the user from the token: decrypt, verify, type, IP and
// device binding, generation, session.
func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b, func(c *app.Config) { c.UserFromToken = true })
	ctx := context.Background()
	pair := f.login(b, "alice", alice)
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(pair.AccessToken)))
	for b.Loop() {
		if _, err := f.svc.Authenticate(ctx, pair.AccessToken, alice); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogin is a login on the memory store: device policy, session
// write and signing and encrypting two tokens.
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b, func(c *app.Config) { c.UserFromToken = true })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Login(ctx, "alice", f.users["alice"], alice); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateTelemetry is BenchmarkAuthenticate's work with its
// instrumentation: bare (the use case without span, metrics or the store
// and cache wrappers: the baseline), global (no provider set: the global
// no-op providers), and sdk (a real SDK MeterProvider with a manual
// reader; tracing left to the global provider). "interleaved" runs the
// three in alternating rounds of 100 calls and reports the ratio of each
// variant's fastest round to bare's: on a shared machine the fastest round
// is the one least disturbed, and alternating exposes all three to the
// same disturbances.
func BenchmarkAuthenticateTelemetry(b *testing.B) {
	type variant struct {
		name string
		auth func(context.Context, string, domain.ClientInfo) (app.Principal[User], error)
		tok  string
	}
	newVariant := func(b *testing.B, name string) variant {
		f := newFixture(b, func(c *app.Config) {
			c.UserFromToken = true
			if name == "sdk" {
				c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			}
		})
		pair := f.login(b, "alice", alice)
		v := variant{name: name, auth: f.svc.Authenticate, tok: pair.AccessToken}
		if name == "bare" {
			v.auth = f.svc.AuthenticateBare
		}
		_, err := v.auth(context.Background(), v.tok, alice)
		require.NoError(b, err)
		return v
	}
	names := []string{"bare", "global", "sdk"}
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			v := newVariant(b, name)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.auth(ctx, v.tok, alice); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		const round = 100
		vs := make([]variant, len(names))
		best := make([]time.Duration, len(names))
		for i, name := range names {
			vs[i] = newVariant(b, name)
			best[i] = time.Duration(1<<63 - 1)
		}
		ctx := context.Background()
		for b.Loop() {
			for i, v := range vs {
				start := time.Now()
				for range round {
					if _, err := v.auth(ctx, v.tok, alice); err != nil {
						b.Fatal(err)
					}
				}
				best[i] = min(best[i], time.Since(start))
			}
		}
		b.ReportMetric(float64(best[0].Nanoseconds())/round, "bare-ns/op")
		b.ReportMetric(float64(best[1])/float64(best[0]), "global/bare")
		b.ReportMetric(float64(best[2])/float64(best[0]), "sdk/bare")
	})
}
