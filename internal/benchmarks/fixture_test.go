package benchmarks

import (
	"context"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/bcache"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
	"github.com/jwtauth/jwtauth/ports"
)

// User is the application's user claims in every benchmark: what a
// typical application puts in its tokens.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

var (
	alice = User{Name: "Alice", Role: "admin"}
	// laptop is the client every token is issued to and presented by.
	laptop = domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: "laptop", DeviceName: "Firefox"}
)

// baselineClaims are the claims of a jwtauth access token as a
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

// newBaselineClaims returns claims like those of an access token issued
// now to alice on laptop.
func newBaselineClaims(now time.Time) *baselineClaims {
	return &baselineClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: "alice", ID: domain.NewID(),
			ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
			NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now),
		},
		Type: "access", SessionID: domain.NewID(), Generation: domain.NewGeneration(),
		IP: laptop.IP.String(), Device: laptop.DeviceID, User: alice,
	}
}

func randomKey(tb testing.TB) []byte {
	tb.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(tb, err)
	return k
}

// backend is what a Service runs on.
type backend struct {
	store  ports.Store
	cache  ports.Cache // nil: no cache
	db     *sqlx.DB    // the PostgreSQL pool, when store is on PostgreSQL
	loader ports.UserLoader[User]
}

// openPostgres returns a migrated pool on a fresh database of its own.
func openPostgres(tb testing.TB) *sqlx.DB {
	tb.Helper()
	db, err := sqlstore.OpenPostgres(context.Background(), pgtest.DSN(tb))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	require.NoError(tb, sqlstore.Migrate(context.Background(), db))
	return db
}

// postgresBackend is the production assembly: the PostgreSQL store, with a
// bigcache cache when cached.
func postgresBackend(tb testing.TB, cached bool) backend {
	tb.Helper()
	db := openPostgres(tb)
	b := backend{store: sqlstore.NewPostgres(db), db: db}
	if cached {
		b.cache = newBigcache(tb)
	}
	return b
}

// memoryBackend is the in-memory store with a bigcache cache.
func memoryBackend(tb testing.TB) backend {
	tb.Helper()
	return backend{store: memory.NewStore(nil), cache: newBigcache(tb)}
}

func newBigcache(tb testing.TB) *bcache.Cache {
	tb.Helper()
	c, err := bcache.New(bcache.Config{})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// newService returns a Service on b with the default configuration (strict
// IP binding, HS256, encryption on), the user from the token unless b has a
// loader.
func newService(tb testing.TB, b backend) *app.Service[User] {
	tb.Helper()
	return newServiceConfig(tb, b, app.Config{})
}

// newServiceConfig is newService with cfg (UserFromToken set as there).
func newServiceConfig(tb testing.TB, b backend, cfg app.Config) *app.Service[User] {
	tb.Helper()
	codec, cipher := newCrypto(tb)
	deps := app.Deps[User]{Store: b.store, Codec: codec, Cipher: cipher, Cache: b.cache, Users: b.loader}
	cfg.UserFromToken = b.loader == nil
	svc, err := app.New(cfg, deps)
	require.NoError(tb, err)
	return svc
}

// newCrypto returns an HS256 codec and a one-key cipher with random keys.
func newCrypto(tb testing.TB) (*jwtcodec.Codec, *jwe.Cipher) {
	tb.Helper()
	return newCryptoWith(tb, randomKey(tb), randomKey(tb))
}

// newCryptoWith returns an HS256 codec signing with signKey and a one-key
// cipher encrypting with encKey.
func newCryptoWith(tb testing.TB, signKey, encKey []byte) (*jwtcodec.Codec, *jwe.Cipher) {
	tb.Helper()
	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: signKey})
	require.NoError(tb, err)
	cipher, err := jwe.New(jwe.Key{ID: "k1", Secret: encKey})
	require.NoError(tb, err)
	return codec, cipher
}

// login logs alice in on laptop and returns her access token after one
// successful Authenticate (which warms the cache, if any).
func login(tb testing.TB, svc *app.Service[User]) string {
	tb.Helper()
	ctx := context.Background()
	pair, err := svc.Login(ctx, "alice", alice, laptop)
	require.NoError(tb, err)
	p, err := svc.Authenticate(ctx, pair.AccessToken, laptop)
	require.NoError(tb, err)
	require.Equal(tb, alice, p.User)
	return pair.AccessToken
}
