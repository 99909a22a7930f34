package benchmarks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// BenchmarkBaselineParseWithClaims is plain golang-jwt v5 ParseWithClaims
// of an HS256 token carrying the same claims as a jwtauth access token,
// into a struct: no encryption, no binding, no revocation. The
// BenchmarkAuthenticate… benchmarks are measured against it.
func BenchmarkBaselineParseWithClaims(b *testing.B) {
	key := randomKey(b)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, newBaselineClaims(time.Now())).SignedString(key)
	require.NoError(b, err)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	b.ReportAllocs()
	b.SetBytes(int64(len(tok)))
	for b.Loop() {
		var c baselineClaims
		if _, err := parser.ParseWithClaims(tok, &c, keyFunc); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkAuthenticate measures Authenticate of one valid access token.
func benchmarkAuthenticate(b *testing.B, svc *app.Service[User], token string) {
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if _, err := svc.Authenticate(ctx, token, laptop); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateBigcache is the full check of an encrypted access
// token, the production hot path: bigcache warm, user from the token;
// decrypt, verify, type, IP and device binding, generation, session.
func BenchmarkAuthenticateBigcache(b *testing.B) {
	svc := newService(b, memoryBackend(b))
	benchmarkAuthenticate(b, svc, login(b, svc))
}

// BenchmarkAuthenticateFirstUse is BenchmarkAuthenticateBigcache with the
// token memo off (app.Config.TokenMemo < 0): every call decrypts,
// verifies and decodes the token, as for a token presented the first
// time. Its ratio to BenchmarkFloor is the full check's cost over the
// unavoidable work; BenchmarkAuthenticateBigcache's is that of a token
// presented again, the common case.
func BenchmarkAuthenticateFirstUse(b *testing.B) {
	svc := newServiceConfig(b, memoryBackend(b), app.Config{TokenMemo: -1})
	benchmarkAuthenticate(b, svc, login(b, svc))
}

// BenchmarkAuthenticatePostgresCached is Authenticate on the PostgreSQL
// store with a warm bigcache: no query is made.
func BenchmarkAuthenticatePostgresCached(b *testing.B) {
	svc := newService(b, postgresBackend(b, true))
	benchmarkAuthenticate(b, svc, login(b, svc))
}

// BenchmarkAuthenticatePostgresUncached is Authenticate on the PostgreSQL
// store without a cache: every call reads the generation and the session.
func BenchmarkAuthenticatePostgresUncached(b *testing.B) {
	svc := newService(b, postgresBackend(b, false))
	benchmarkAuthenticate(b, svc, login(b, svc))
}

// BenchmarkAuthenticateUserFromToken takes the user claims from the token
// (PostgreSQL store, warm bigcache).
func BenchmarkAuthenticateUserFromToken(b *testing.B) {
	svc := newService(b, postgresBackend(b, true))
	benchmarkAuthenticate(b, svc, login(b, svc))
}

// BenchmarkAuthenticateUserLoaderPostgres loads the user on every call
// with a UserLoader reading a users table of 10,000 rows through sqlx, as
// an application would (PostgreSQL store, warm bigcache).
func BenchmarkAuthenticateUserLoaderPostgres(b *testing.B) {
	be := postgresBackend(b, true)
	be.loader = newUserTable(b, be.db, 10_000)
	svc := newService(b, be)
	benchmarkAuthenticate(b, svc, login(b, svc))
}

// userRow is a row of the application's users table.
type userRow struct {
	Name string `db:"name"`
	Role string `db:"role"`
}

// newUserTable creates an application users table holding alice and n
// other users, and returns a UserLoader reading it.
func newUserTable(tb testing.TB, db *sqlx.DB, n int) ports.UserLoader[User] {
	tb.Helper()
	ctx := context.Background()
	_, err := db.ExecContext(ctx, `CREATE TABLE users (
    id   text PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL
)`)
	require.NoError(tb, err)
	_, err = db.ExecContext(ctx, `INSERT INTO users (id, name, role)
SELECT 'user-' || i, 'User ' || i, 'user' FROM generate_series(1, $1) AS i`, n)
	require.NoError(tb, err)
	_, err = db.ExecContext(ctx, `INSERT INTO users (id, name, role) VALUES ($1, $2, $3)`, "alice", alice.Name, alice.Role)
	require.NoError(tb, err)
	_, err = db.ExecContext(ctx, `ANALYZE users`)
	require.NoError(tb, err)
	return ports.UserLoaderFunc[User](func(ctx context.Context, id string) (User, error) {
		var r userRow
		err := db.GetContext(ctx, &r, `SELECT name, role FROM users WHERE id = $1`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return User{}, fmt.Errorf("%w: no user %q", domain.ErrRevoked, id)
		}
		if err != nil {
			return User{}, fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
		}
		return User(r), nil
	})
}
