package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/wire"
	"github.com/jmoiron/sqlx"

	"github.com/jwtauth/jwtauth/adapters/bcache"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/adapters/pgbus"
	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// Backend is the assembled infrastructure of a Service: everything but the
// application's user claims type. Build one with an injector
// (NewPostgresBackend, NewSQLiteBackend, NewMemoryBackend or OpenBackend),
// then call NewService.
type Backend struct {
	Store  ports.Store
	Codec  ports.TokenCodec
	Cipher ports.Cipher // nil when encryption is off
	Cache  ports.Cache  // nil when the cache is off
	Bus    ports.Bus
	DB     *sqlx.DB // nil for the memory backend
}

// Ping reports whether the store answers; the error wraps
// domain.ErrUnavailable.
func (b *Backend) Ping(ctx context.Context) error {
	if b.DB == nil {
		return nil
	}
	if err := b.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", domain.ErrUnavailable, err)
	}
	return nil
}

// NewService returns the use cases for the application's user claims type
// U on b. users loads fresh user claims on refresh (and on every request
// unless cfg.UserFromToken); nil yields the zero U.
func NewService[U any](cfg Config, b *Backend, users ports.UserLoader[U]) (*app.Service[U], error) {
	return app.New(cfg.AppConfig(), app.Deps[U]{
		Store:  b.Store,
		Codec:  b.Codec,
		Cipher: b.Cipher,
		Cache:  b.Cache,
		Bus:    b.Bus,
		Users:  users,
	})
}

// OpenBackend builds the backend cfg names: PostgreSQL when DatabaseURL is
// a postgres:// URL, else SQLite in DataDir. Outside production, keys cfg
// lacks come from DataDir/keys.env, generated there on the first start
// (Config.DevKeys, logged on slog.Default() with the file's path), exactly
// as for 'jwtauth serve'; in production missing keys are an error.
func OpenBackend(ctx context.Context, cfg Config) (*Backend, func(), error) {
	if err := cfg.DevKeys(nil, true); err != nil {
		return nil, nil, err
	}
	if err := cfg.RequireKeys(); err != nil {
		return nil, nil, err // before anything is opened or created
	}
	if IsPostgresURL(cfg.DatabaseURL) {
		return NewPostgresBackend(ctx, cfg)
	}
	return NewSQLiteBackend(ctx, cfg)
}

// CoreSet provides the token codec, the cipher and the cache from Config.
var CoreSet = wire.NewSet(ProvideCodec, ProvideCipher, ProvideCache)

// PostgresSet provides a PostgreSQL store and its LISTEN/NOTIFY bus.
var PostgresSet = wire.NewSet(ProvidePostgresDB, ProvidePostgresStore, ProvidePostgresBus)

// SQLiteSet provides a SQLite store with an in-process bus.
var SQLiteSet = wire.NewSet(ProvideSQLiteDB, ProvideSQLiteStore, wire.Struct(new(memory.Bus)),
	wire.Bind(new(ports.Bus), new(*memory.Bus)))

// MemorySet provides the in-memory store and bus.
var MemorySet = wire.NewSet(ProvideMemoryStore, wire.Struct(new(memory.Bus)),
	wire.Bind(new(ports.Bus), new(*memory.Bus)))

// ProvideCodec returns the JWT codec configured by cfg.
func ProvideCodec(cfg Config) (ports.TokenCodec, error) {
	if err := cfg.RequireKeys(); err != nil {
		return nil, err
	}
	c, err := jwtcodec.New(cfg.CodecConfig())
	if err != nil {
		return nil, fmt.Errorf("%w: JWTAUTH_SIGNING_KEY / JWTAUTH_SIGNING_ALG: %w", ErrConfig, err)
	}
	return c, nil
}

// CodecConfig returns the token codec's settings of c: algorithm, key,
// issuer, audience, and JWTAUTH_CLOCK_SKEW as the leeway on nbf and iat.
func (c Config) CodecConfig() jwtcodec.Config {
	skew := c.ClockSkew
	if skew <= 0 {
		skew = time.Nanosecond // none: token times are whole seconds (jwtcodec's zero means its default)
	}
	return jwtcodec.Config{Method: c.SigningAlg, Key: c.SigningKey, Issuer: c.Issuer, Audience: c.Audience, Leeway: skew}
}

// ProvideCipher returns the JWE cipher over cfg's key ring, or nil when
// encryption is off.
func ProvideCipher(cfg Config) (ports.Cipher, error) {
	if !cfg.Encrypt {
		return nil, nil
	}
	keys := make([]jwe.Key, len(cfg.EncryptionKeys))
	for i, k := range cfg.EncryptionKeys {
		keys[i] = jwe.Key{ID: k.ID, Secret: k.Secret}
	}
	c, err := jwe.New(keys...)
	if err != nil {
		return nil, fmt.Errorf("%w: JWTAUTH_ENCRYPTION_KEYS: %w", ErrConfig, err)
	}
	return c, nil
}

// ProvideCache returns the bigcache cache, or nil when the cache is off.
func ProvideCache(cfg Config) (ports.Cache, func(), error) {
	if !cfg.Cache {
		return nil, func() {}, nil
	}
	c, err := bcache.New(bcache.Config{TTL: cfg.CacheTTL, MaxEntries: cfg.CacheMaxEntries})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: JWTAUTH_CACHE_TTL or CacheMaxEntries: %w", ErrConfig, err)
	}
	return c, func() { _ = c.Close() }, nil
}

// ProvidePostgresDB opens and migrates the PostgreSQL database of
// cfg.DatabaseURL.
func ProvidePostgresDB(ctx context.Context, cfg Config) (*sqlx.DB, func(), error) {
	db, err := sqlstore.OpenPostgres(ctx, cfg.DatabaseURL,
		sqlstore.WithMaxConns(cfg.DBMaxConns), sqlstore.WithIOTimeout(cfg.DBTimeout))
	if err != nil {
		return nil, nil, fmt.Errorf("JWTAUTH_DATABASE_URL: %w", err) // never the URL: it may hold a password
	}
	if err := migratePostgres(ctx, cfg.DatabaseURL); err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, func() { _ = db.Close() }, nil
}

// migratePostgres migrates through a pool of its own whose reads may take
// sqlstore.MigrateIOTimeout: the store's pool gives up a read after
// JWTAUTH_DB_TIMEOUT, shorter than an index build on a large table or the
// wait for another instance's migration.
func migratePostgres(ctx context.Context, url string) error {
	db, err := sqlstore.OpenPostgres(ctx, url, sqlstore.WithMaxConns(1), sqlstore.WithIOTimeout(sqlstore.MigrateIOTimeout))
	if err != nil {
		return fmt.Errorf("JWTAUTH_DATABASE_URL: %w", err) // never the URL: it may hold a password
	}
	defer func() { _ = db.Close() }()
	return sqlstore.Migrate(ctx, db)
}

// ProvidePostgresStore returns the PostgreSQL store, which announces
// invalidations with NOTIFY in the committing transaction. Every call runs
// under cfg.DBTimeout.
func ProvidePostgresStore(cfg Config, db *sqlx.DB) ports.Store {
	return sqlstore.NewPostgres(db, sqlstore.WithTimeout(cfg.DBTimeout))
}

// ProvidePostgresBus returns the LISTEN side of the invalidation bus. It
// shares db for anything it publishes (heartbeats included), proves itself
// alive every cfg.BusHeartbeat, bounds Sync by cfg.DBTimeout, and logs
// through slog.Default.
func ProvidePostgresBus(cfg Config, db *sqlx.DB) (ports.Bus, func(), error) {
	opts := []pgbus.Option{pgbus.WithDB(db.DB)}
	if cfg.BusHeartbeat > 0 { // zero: the default
		opts = append(opts, pgbus.WithHeartbeat(cfg.BusHeartbeat))
	}
	if cfg.DBTimeout > 0 {
		opts = append(opts, pgbus.WithSyncTimeout(cfg.DBTimeout))
	}
	b, err := pgbus.New(cfg.DatabaseURL, opts...)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { _ = b.Close() }, nil
}

// SQLiteFile is the name of the SQLite database in the data dir.
const SQLiteFile = "jwtauth.db"

// ProvideSQLiteDB opens and migrates the SQLite file SQLiteFile in
// cfg.DataDir, creating the directory (0700) and the file (0600). It first
// takes the file's advisory lock (sqlstore.LockSQLite): a second process on
// the same file gets an error wrapping ErrConfig and sqlstore.ErrLocked that
// names the file and the holder's PID.
func ProvideSQLiteDB(ctx context.Context, cfg Config) (*sqlx.DB, func(), error) {
	if err := MakeDataDir(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(cfg.DataDir, SQLiteFile)
	unlock, err := sqlstore.LockSQLite(path)
	if err != nil {
		if errors.Is(err, sqlstore.ErrLocked) {
			err = fmt.Errorf("%w: JWTAUTH_DATA_DIR: %w", ErrConfig, err)
		}
		return nil, nil, err
	}
	db, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	if err := sqlstore.Migrate(ctx, db); err != nil {
		_ = db.Close()
		unlock()
		return nil, nil, err
	}
	return db, func() { _ = db.Close(); unlock() }, nil
}

// MakeDataDir creates the data directory dir (mode 0700) if it is
// missing. The error wraps ErrConfig and names JWTAUTH_DATA_DIR and dir.
func MakeDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: JWTAUTH_DATA_DIR %q cannot be created: %w", ErrConfig, dir, pathErr(err))
	}
	return nil
}

// ProvideSQLiteStore returns the SQLite store publishing to bus. Every call
// runs under cfg.DBTimeout.
func ProvideSQLiteStore(cfg Config, db *sqlx.DB, bus *memory.Bus) ports.Store {
	return sqlstore.NewSQLite(db, sqlstore.WithPublisher(bus), sqlstore.WithTimeout(cfg.DBTimeout))
}

// ProvideMemoryStore returns the in-memory store publishing to bus.
func ProvideMemoryStore(bus *memory.Bus) ports.Store { return memory.NewStore(bus) }
