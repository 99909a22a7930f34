package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/jwtauth/jwtauth/app"
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
// instrumentation: bare (the use case without span and metrics, the
// baseline), global (no provider set: the global no-op providers), and sdk
// (a real SDK MeterProvider with a manual reader; tracing left to the
// global no-op provider).
func BenchmarkAuthenticateTelemetry(b *testing.B) {
	run := func(b *testing.B, mutate func(*app.Config), bare bool) {
		f := newFixture(b, func(c *app.Config) {
			c.UserFromToken = true
			if mutate != nil {
				mutate(c)
			}
		})
		ctx := context.Background()
		pair := f.login(b, "alice", alice)
		auth := f.svc.Authenticate
		if bare {
			auth = f.svc.AuthenticateBare
		}
		_, err := auth(ctx, pair.AccessToken, alice)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := auth(ctx, pair.AccessToken, alice); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, nil, true) })
	b.Run("global", func(b *testing.B) { run(b, nil, false) })
	b.Run("sdk", func(b *testing.B) {
		run(b, func(c *app.Config) {
			c.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		}, false)
	})
}
