package jwtauth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
)

// Secret is key material. It prints as "[redacted]" so that a Config can be
// logged or formatted without leaking keys.
type Secret []byte

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return "[redacted]" }

// MarshalText keeps secrets out of JSON and other encodings.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// EncryptionKey is one key of the encryption key ring.
type EncryptionKey struct {
	ID     string
	Secret Secret
}

// Config is the whole configuration of an assembled jwtauth: the use cases'
// settings, the keys, and where state lives. LoadConfig reads it from the
// JWTAUTH_* environment variables; every field documents its variable and
// default.
type Config struct {
	// AccessTTL: JWTAUTH_ACCESS_TTL, default 10m.
	AccessTTL time.Duration
	// RefreshTTL: JWTAUTH_REFRESH_TTL, default 720h.
	RefreshTTL time.Duration
	// SigningKey: JWTAUTH_SIGNING_KEY, base64, at least 32 bytes. Required
	// in production; in development the CLI generates and saves one.
	SigningKey Secret
	// SigningAlg: JWTAUTH_SIGNING_ALG, default HS256 (HS384, HS512 too).
	SigningAlg string
	// EncryptionKeys: JWTAUTH_ENCRYPTION_KEYS, "kid:base64key,..." of 32-byte
	// keys; the first encrypts, all decrypt.
	EncryptionKeys []EncryptionKey
	// Encrypt: JWTAUTH_ENCRYPT, default true. Off issues plain signed JWTs.
	Encrypt bool
	// Cache: JWTAUTH_CACHE, default true.
	Cache bool
	// CacheTTL: JWTAUTH_CACHE_TTL, default 5m.
	CacheTTL time.Duration
	// CacheMaxEntries sizes the cache (no variable), default 100000.
	CacheMaxEntries int
	// UserFromToken: JWTAUTH_USER_FROM_TOKEN, default false.
	UserFromToken bool
	// TokenMemo: JWTAUTH_TOKEN_MEMO, default 4096 (app.DefaultTokenMemo).
	// The number of access tokens remembered as verified, so that a
	// token presented again is not decrypted, verified and decoded again
	// (its binding, generation and session are still checked on every
	// request; see app.Config.TokenMemo). 0 turns it off.
	TokenMemo int
	// MaxSessions: JWTAUTH_MAX_SESSIONS, default 50. Caps a user's live
	// sessions whatever the device limit; past it the least recently seen
	// is revoked.
	MaxSessions int
	// DeviceLimit: JWTAUTH_DEVICE_LIMIT, default 0 (none).
	DeviceLimit int
	// DevicePolicy: JWTAUTH_DEVICE_POLICY, default evict_oldest.
	DevicePolicy domain.LimitAction
	// DeviceHeader: JWTAUTH_DEVICE_HEADER, default X-Device-ID.
	DeviceHeader string
	// IPBinding: JWTAUTH_IP_BINDING, default strict.
	IPBinding domain.IPBinding
	// TrustedProxies: JWTAUTH_TRUSTED_PROXIES, comma-separated CIDRs or
	// addresses, default none (X-Forwarded-For ignored).
	TrustedProxies []netip.Prefix
	// RotateRefresh: JWTAUTH_ROTATE_REFRESH, default false.
	RotateRefresh bool
	// RefreshReuseGrace: JWTAUTH_REFRESH_REUSE_GRACE, default 10s.
	RefreshReuseGrace time.Duration
	// SessionMaxAge: JWTAUTH_SESSION_MAX_AGE, default RefreshTTL.
	SessionMaxAge time.Duration
	// SessionIdleTimeout: JWTAUTH_SESSION_IDLE_TIMEOUT, default 0 (off).
	SessionIdleTimeout time.Duration
	// Issuer: JWTAUTH_ISSUER, default unset (not written, not checked).
	Issuer string
	// Audience: JWTAUTH_AUDIENCE, comma-separated, default unset.
	Audience []string
	// DatabaseURL: JWTAUTH_DATABASE_URL. Unset: SQLite file in DataDir;
	// postgres:// or postgresql://: PostgreSQL.
	DatabaseURL string
	// DataDir: JWTAUTH_DATA_DIR, default ./.jwtauth.
	DataDir string
	// Addr: JWTAUTH_ADDR, default 127.0.0.1:8080 (reference server).
	Addr string
	// MetricsAddr: JWTAUTH_METRICS_ADDR, default unset (off). The
	// reference server's separate listener for /metrics and /debug/pprof/.
	MetricsAddr string
	// Env: JWTAUTH_ENV, default development. "production" refuses to start
	// without keys.
	Env string
	// DemoUsers: JWTAUTH_DEMO_USERS, default alice:alice-password
	// (reference server only). Production accepts only bcrypt hashes
	// (name:$2b$..., printed by 'jwtauth passwd') and not the default.
	DemoUsers string
	// DBTimeout: JWTAUTH_DB_TIMEOUT, default 2s. The deadline of each
	// store call, waiting for a pool connection included.
	DBTimeout time.Duration
	// RequestTimeout: JWTAUTH_REQUEST_TIMEOUT, default 5s. The deadline of
	// each reference-server request.
	RequestTimeout time.Duration
	// DBMaxConns: JWTAUTH_DB_MAX_CONNS, default 10. PostgreSQL pool size.
	DBMaxConns int
	// BusHeartbeat: JWTAUTH_BUS_HEARTBEAT, default 250ms. How often the
	// PostgreSQL bus proves itself alive; the cache is bypassed when the
	// last proof is older than twice this.
	BusHeartbeat time.Duration
	// PruneInterval: JWTAUTH_PRUNE_INTERVAL, default 10m. How often the
	// reference server deletes ended sessions.
	PruneInterval time.Duration
	// ShutdownTimeout: JWTAUTH_SHUTDOWN_TIMEOUT, default 10s. How long the
	// reference server drains requests on SIGTERM.
	ShutdownTimeout time.Duration
	// MeterProvider and TracerProvider (no variables) receive the
	// service's metrics and spans; nil means the global providers of
	// go.opentelemetry.io/otel, no-ops until the application sets them.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
	// CookieSameSite: JWTAUTH_COOKIE_SAMESITE, lax (default) or strict: the
	// SameSite attribute of the browser group's cookies.
	CookieSameSite http.SameSite
	// CookieSecure: JWTAUTH_COOKIE_SECURE, default true: the browser
	// group's cookies carry the Secure attribute.
	CookieSecure bool
	// AllowedOrigins: JWTAUTH_ALLOWED_ORIGINS, comma-separated origins
	// (scheme://host[:port]) trusted for cross-origin unsafe requests
	// besides same-origin ones; default none.
	AllowedOrigins []string
	// ClockSkew: JWTAUTH_CLOCK_SKEW, default 5s. The clock skew between
	// instances tolerated on a token's nbf and iat (0: none); exp has none.
	ClockSkew time.Duration
	// DPoP: JWTAUTH_DPOP, off (default), allowed (a login or refresh with
	// a DPoP proof binds the session to its key) or required (every
	// login, refresh and authenticated request needs a proof). See
	// docs/dpop.md.
	DPoP DPoPMode
	// DPoPAlgs: JWTAUTH_DPOP_ALGS, default ES256,EdDSA: the proof
	// algorithms accepted (asymmetric only; none and HS* are refused).
	DPoPAlgs []string
	// DPoPMaxAge: JWTAUTH_DPOP_MAX_AGE, default 60s: how old a proof's iat
	// may be, and so how long its jti is remembered against replay.
	DPoPMaxAge time.Duration
	// DPoPNonce: JWTAUTH_DPOP_NONCE, default false: require server nonces
	// (RFC 9449 §8). They are stateless, made with a key derived from
	// JWTAUTH_SIGNING_KEY, so every instance accepts every instance's.
	DPoPNonce bool
	// PublicURL: JWTAUTH_PUBLIC_URL, the external base URL
	// (https://auth.example.com[/prefix]) DPoP proofs' htu is checked
	// against behind a proxy; unset: the URL each request arrived at.
	PublicURL string
}

// DPoPMode is the JWTAUTH_DPOP setting.
type DPoPMode string

// The DPoP modes.
const (
	DPoPOff      DPoPMode = "off"
	DPoPAllowed  DPoPMode = "allowed"
	DPoPRequired DPoPMode = "required"
)

// DefaultDemoUsers is the built-in demo account of the reference server,
// refused in production.
const DefaultDemoUsers = "alice:alice-password"

// DefaultConfig returns the configuration with every default applied and no
// keys.
func DefaultConfig() Config {
	return Config{
		AccessTTL:         10 * time.Minute,
		RefreshTTL:        720 * time.Hour,
		SigningAlg:        "HS256",
		Encrypt:           true,
		Cache:             true,
		CacheTTL:          5 * time.Minute,
		CacheMaxEntries:   100_000,
		DevicePolicy:      domain.EvictOldest,
		MaxSessions:       domain.DefaultMaxSessions,
		TokenMemo:         app.DefaultTokenMemo,
		DeviceHeader:      "X-Device-ID",
		IPBinding:         domain.IPStrict,
		RefreshReuseGrace: 10 * time.Second,
		DataDir:           "./.jwtauth",
		Addr:              "127.0.0.1:8080",
		Env:               "development",
		DemoUsers:         DefaultDemoUsers,
		DBTimeout:         2 * time.Second,
		RequestTimeout:    5 * time.Second,
		DBMaxConns:        10,
		BusHeartbeat:      250 * time.Millisecond,
		PruneInterval:     10 * time.Minute,
		ShutdownTimeout:   10 * time.Second,
		CookieSameSite:    http.SameSiteLaxMode,
		CookieSecure:      true,
		ClockSkew:         5 * time.Second,
		DPoP:              DPoPOff,
		DPoPAlgs:          slices.Clone(dpop.DefaultAlgorithms),
		DPoPMaxAge:        dpop.DefaultMaxAge,
	}
}

// Production reports whether Env is "production".
func (c Config) Production() bool { return c.Env == "production" }

// ErrConfig is wrapped by every configuration error. Messages name the
// variable, never its value when it is a key.
var ErrConfig = errors.New("jwtauth: invalid configuration")

// LoadConfig reads the JWTAUTH_* variables through lookup (os.LookupEnv
// when nil) over DefaultConfig. Unset or empty variables keep their
// default. The first invalid value stops it with an error naming the
// variable.
//
// With a nil lookup it reads the process environment, and warns on
// slog.Default() about every JWTAUTH_* variable it does not know, naming
// the nearest known one (see UnknownVariables): a misspelt variable would
// otherwise be silently ignored.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
		for _, w := range UnknownVariables(os.Environ()) {
			slog.Warn("jwtauth: " + w)
		}
	}
	c := DefaultConfig()
	l := loader{lookup: lookup}
	l.duration("JWTAUTH_ACCESS_TTL", &c.AccessTTL, false)
	l.duration("JWTAUTH_REFRESH_TTL", &c.RefreshTTL, false)
	l.secret("JWTAUTH_SIGNING_KEY", &c.SigningKey)
	l.str("JWTAUTH_SIGNING_ALG", &c.SigningAlg)
	if v, ok := l.get("JWTAUTH_ENCRYPTION_KEYS"); ok {
		keys, err := ParseEncryptionKeys(v)
		l.fail("JWTAUTH_ENCRYPTION_KEYS", err)
		c.EncryptionKeys = keys
	}
	l.boolean("JWTAUTH_ENCRYPT", &c.Encrypt)
	l.boolean("JWTAUTH_CACHE", &c.Cache)
	l.duration("JWTAUTH_CACHE_TTL", &c.CacheTTL, false)
	l.boolean("JWTAUTH_USER_FROM_TOKEN", &c.UserFromToken)
	if v, ok := l.get("JWTAUTH_DEVICE_LIMIT"); ok {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			err = fmt.Errorf("%q is not a whole number of devices (0: no limit)", v)
		case n < 0:
			err = fmt.Errorf("must not be negative (0: no limit), got %d", n)
		}
		l.fail("JWTAUTH_DEVICE_LIMIT", err)
		c.DeviceLimit = n
	}
	if v, ok := l.get("JWTAUTH_MAX_SESSIONS"); ok {
		n, err := strconv.Atoi(v)
		if err == nil && n < 1 {
			err = errors.New("must be at least 1")
		} else if err != nil {
			err = fmt.Errorf("%q is not a whole number", v)
		}
		l.fail("JWTAUTH_MAX_SESSIONS", err)
		c.MaxSessions = n
	}
	if v, ok := l.get("JWTAUTH_TOKEN_MEMO"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			err = fmt.Errorf("%q is not a whole number", v)
		}
		l.fail("JWTAUTH_TOKEN_MEMO", err)
		c.TokenMemo = n
	}
	if v, ok := l.get("JWTAUTH_DEVICE_POLICY"); ok {
		p, err := domain.ParseLimitAction(v)
		l.fail("JWTAUTH_DEVICE_POLICY", err)
		c.DevicePolicy = p
	}
	l.str("JWTAUTH_DEVICE_HEADER", &c.DeviceHeader)
	if v, ok := l.get("JWTAUTH_IP_BINDING"); ok {
		b, err := domain.ParseIPBinding(v)
		l.fail("JWTAUTH_IP_BINDING", err)
		c.IPBinding = b
	}
	if v, ok := l.get("JWTAUTH_TRUSTED_PROXIES"); ok {
		p, err := ParseTrustedProxies(v)
		l.fail("JWTAUTH_TRUSTED_PROXIES", err)
		c.TrustedProxies = p
	}
	l.boolean("JWTAUTH_ROTATE_REFRESH", &c.RotateRefresh)
	l.duration("JWTAUTH_REFRESH_REUSE_GRACE", &c.RefreshReuseGrace, true)
	l.duration("JWTAUTH_SESSION_MAX_AGE", &c.SessionMaxAge, false)
	l.duration("JWTAUTH_SESSION_IDLE_TIMEOUT", &c.SessionIdleTimeout, true)
	l.str("JWTAUTH_ISSUER", &c.Issuer)
	if v, ok := l.get("JWTAUTH_AUDIENCE"); ok {
		c.Audience = splitList(v)
	}
	l.str("JWTAUTH_DATABASE_URL", &c.DatabaseURL)
	l.str("JWTAUTH_DATA_DIR", &c.DataDir)
	l.str("JWTAUTH_ADDR", &c.Addr)
	l.str("JWTAUTH_METRICS_ADDR", &c.MetricsAddr)
	l.str("JWTAUTH_ENV", &c.Env)
	l.str("JWTAUTH_DEMO_USERS", &c.DemoUsers)
	l.duration("JWTAUTH_DB_TIMEOUT", &c.DBTimeout, false)
	l.duration("JWTAUTH_REQUEST_TIMEOUT", &c.RequestTimeout, false)
	if v, ok := l.get("JWTAUTH_DB_MAX_CONNS"); ok {
		n, err := strconv.Atoi(v)
		if err == nil && n < 1 {
			err = errors.New("must be at least 1")
		}
		l.fail("JWTAUTH_DB_MAX_CONNS", err)
		c.DBMaxConns = n
	}
	l.duration("JWTAUTH_BUS_HEARTBEAT", &c.BusHeartbeat, false)
	l.duration("JWTAUTH_PRUNE_INTERVAL", &c.PruneInterval, false)
	l.duration("JWTAUTH_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout, false)
	if v, ok := l.get("JWTAUTH_COOKIE_SAMESITE"); ok {
		switch strings.ToLower(v) {
		case "lax":
			c.CookieSameSite = http.SameSiteLaxMode
		case "strict":
			c.CookieSameSite = http.SameSiteStrictMode
		default:
			l.fail("JWTAUTH_COOKIE_SAMESITE", fmt.Errorf("%q is not lax or strict", v))
		}
	}
	l.boolean("JWTAUTH_COOKIE_SECURE", &c.CookieSecure)
	if v, ok := l.get("JWTAUTH_ALLOWED_ORIGINS"); ok {
		c.AllowedOrigins = splitList(v)
		check := http.NewCrossOriginProtection()
		for _, o := range c.AllowedOrigins {
			if err := check.AddTrustedOrigin(o); err != nil {
				l.fail("JWTAUTH_ALLOWED_ORIGINS", fmt.Errorf("%q is not an origin like https://app.example.com", o))
			}
		}
	}
	l.duration("JWTAUTH_CLOCK_SKEW", &c.ClockSkew, true)
	if v, ok := l.get("JWTAUTH_DPOP"); ok {
		switch m := DPoPMode(strings.ToLower(v)); m {
		case DPoPOff, DPoPAllowed, DPoPRequired:
			c.DPoP = m
		default:
			l.fail("JWTAUTH_DPOP", fmt.Errorf("%q is not off, allowed or required", v))
		}
	}
	if v, ok := l.get("JWTAUTH_DPOP_ALGS"); ok {
		c.DPoPAlgs = splitList(v)
	}
	l.duration("JWTAUTH_DPOP_MAX_AGE", &c.DPoPMaxAge, false)
	l.boolean("JWTAUTH_DPOP_NONCE", &c.DPoPNonce)
	l.str("JWTAUTH_PUBLIC_URL", &c.PublicURL)
	if l.err != nil {
		return Config{}, l.err
	}
	return c, c.Validate()
}

// variables are the names of every JWTAUTH_* variable jwtauth reads: the
// library's, the reference server's (`jwtauth serve`) and the test suites'
// (JWTAUTH_TEST_DATABASE_URL).
var variables = []string{
	"JWTAUTH_ACCESS_TTL", "JWTAUTH_REFRESH_TTL", "JWTAUTH_SIGNING_KEY", "JWTAUTH_SIGNING_ALG",
	"JWTAUTH_ENCRYPTION_KEYS", "JWTAUTH_ENCRYPT", "JWTAUTH_CACHE", "JWTAUTH_CACHE_TTL",
	"JWTAUTH_USER_FROM_TOKEN", "JWTAUTH_DEVICE_LIMIT", "JWTAUTH_DEVICE_POLICY", "JWTAUTH_DEVICE_HEADER",
	"JWTAUTH_IP_BINDING", "JWTAUTH_TRUSTED_PROXIES", "JWTAUTH_ROTATE_REFRESH", "JWTAUTH_REFRESH_REUSE_GRACE",
	"JWTAUTH_SESSION_MAX_AGE", "JWTAUTH_SESSION_IDLE_TIMEOUT", "JWTAUTH_ISSUER", "JWTAUTH_AUDIENCE",
	"JWTAUTH_DATABASE_URL", "JWTAUTH_DATA_DIR", "JWTAUTH_ADDR", "JWTAUTH_ENV", "JWTAUTH_DEMO_USERS",
	// Guarantees under faults.
	"JWTAUTH_DB_TIMEOUT", "JWTAUTH_REQUEST_TIMEOUT", "JWTAUTH_DB_MAX_CONNS", "JWTAUTH_BUS_HEARTBEAT",
	"JWTAUTH_PRUNE_INTERVAL", "JWTAUTH_SHUTDOWN_TIMEOUT",
	// Abuse resistance.
	"JWTAUTH_MAX_SESSIONS", "JWTAUTH_CLOCK_SKEW",
	// Speed.
	"JWTAUTH_TOKEN_MEMO",
	// Browser apps.
	"JWTAUTH_COOKIE_SAMESITE", "JWTAUTH_COOKIE_SECURE", "JWTAUTH_ALLOWED_ORIGINS",
	// Observability.
	"JWTAUTH_METRICS_ADDR",
	// DPoP.
	"JWTAUTH_DPOP", "JWTAUTH_DPOP_ALGS", "JWTAUTH_DPOP_MAX_AGE", "JWTAUTH_DPOP_NONCE", "JWTAUTH_PUBLIC_URL",
	// Tests.
	"JWTAUTH_TEST_DATABASE_URL",
}

// UnknownVariables returns a warning for every JWTAUTH_* name in environ
// ("NAME=value" entries, as os.Environ returns) that jwtauth does not read,
// naming the nearest known variable, e.g. "JWTAUTH_DEVICE_LIMT is not a
// known variable and is ignored; did you mean JWTAUTH_DEVICE_LIMIT?".
// Values are never quoted.
func UnknownVariables(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "JWTAUTH_") || slices.Contains(variables, name) {
			continue
		}
		best, bestDist := "", -1
		for _, known := range variables {
			if d := editDistance(name, known); bestDist < 0 || d < bestDist {
				best, bestDist = known, d
			}
		}
		out = append(out, fmt.Sprintf("%s is not a known variable and is ignored; did you mean %s?", name, best))
	}
	return out
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Validate checks the values LoadConfig cannot check one by one. Missing
// keys are an error only in production (RequireKeys).
func (c Config) Validate() error {
	bad := func(name, msg string) error { return fmt.Errorf("%w: %s %s", ErrConfig, name, msg) }
	switch {
	case c.AccessTTL <= 0:
		return bad("JWTAUTH_ACCESS_TTL", "must be positive")
	case c.RefreshTTL <= 0:
		return bad("JWTAUTH_REFRESH_TTL", "must be positive")
	case c.RefreshTTL < c.AccessTTL:
		return bad("JWTAUTH_REFRESH_TTL", "must not be shorter than JWTAUTH_ACCESS_TTL")
	case c.SessionIdleTimeout > 0 && c.SessionIdleTimeout <= c.AccessTTL:
		return bad("JWTAUTH_SESSION_IDLE_TIMEOUT", "must be longer than JWTAUTH_ACCESS_TTL (only refreshes move a session's last-seen time)")
	case c.SessionMaxAge < 0:
		return bad("JWTAUTH_SESSION_MAX_AGE", "must be positive")
	case c.CacheTTL < time.Second && c.Cache:
		return bad("JWTAUTH_CACHE_TTL", "must be at least 1s")
	case c.Env != "development" && c.Env != "production" && c.Env != "test":
		return bad("JWTAUTH_ENV", "must be development, production or test")
	case c.MaxSessions < 0:
		return bad("JWTAUTH_MAX_SESSIONS", "must be at least 1")
	case c.TokenMemo < 0 || c.TokenMemo > app.MaxTokenMemo:
		return bad("JWTAUTH_TOKEN_MEMO", fmt.Sprintf("must be 0 (off) to %d", app.MaxTokenMemo))
	case c.MaxSessions > 0 && c.DeviceLimit > c.MaxSessions:
		return bad("JWTAUTH_DEVICE_LIMIT", fmt.Sprintf("must not exceed JWTAUTH_MAX_SESSIONS (%d): the session cap would evict before the device policy applies", c.MaxSessions))
	case c.DeviceHeader == "":
		return bad("JWTAUTH_DEVICE_HEADER", "must not be empty")
	}
	switch c.SigningAlg {
	case "HS256", "HS384", "HS512":
	default:
		return bad("JWTAUTH_SIGNING_ALG", "must be HS256, HS384 or HS512")
	}
	// RFC 7518 3.2: an HMAC key at least as long as the hash output.
	minKey := map[string]int{"HS256": 32, "HS384": 48, "HS512": 64}[c.SigningAlg]
	if c.SigningKey != nil && len(c.SigningKey) < minKey {
		return bad("JWTAUTH_SIGNING_KEY", fmt.Sprintf("must be at least %d bytes for %s (base64-encoded)", minKey, c.SigningAlg))
	}
	if err := c.checkDPoP(); err != nil {
		return err
	}
	if c.DatabaseURL != "" && !IsPostgresURL(c.DatabaseURL) {
		return bad("JWTAUTH_DATABASE_URL", "must be a postgres:// or postgresql:// URL (unset: SQLite in JWTAUTH_DATA_DIR)")
	}
	if c.Production() {
		if err := c.RequireKeys(); err != nil {
			return err
		}
		return c.checkProduction()
	}
	return nil
}

// checkProduction refuses the settings that are unsafe in production:
// low-entropy keys, one key for signing and encryption, a trusted proxy
// range covering every address, and a SQLite data dir or database file
// that other users can read. Errors name the variable, never a key.
func (c Config) checkProduction() error {
	bad := func(name, msg string) error {
		return fmt.Errorf("%w: %s %s (JWTAUTH_ENV=production)", ErrConfig, name, msg)
	}
	if reason := lowEntropy(c.SigningKey); reason != "" {
		return bad("JWTAUTH_SIGNING_KEY", "is not a random key: "+reason+" (generate one with 'jwtauth keygen')")
	}
	if c.Encrypt {
		for i, k := range c.EncryptionKeys {
			if reason := lowEntropy(k.Secret); reason != "" {
				return bad("JWTAUTH_ENCRYPTION_KEYS", fmt.Sprintf("key %d (kid %q) is not a random key: %s (generate one with 'jwtauth keygen')", i+1, k.ID, reason))
			}
			if bytes.Contains(c.SigningKey, k.Secret) {
				return bad("JWTAUTH_ENCRYPTION_KEYS", fmt.Sprintf("key %d (kid %q) is (part of) JWTAUTH_SIGNING_KEY: use independent keys", i+1, k.ID))
			}
		}
	}
	for _, p := range c.TrustedProxies {
		if p.Bits() == 0 {
			return bad("JWTAUTH_TRUSTED_PROXIES", fmt.Sprintf("must not contain %s: it trusts X-Forwarded-For from every client", p))
		}
	}
	if c.DatabaseURL == "" {
		for _, path := range []string{c.DataDir, filepath.Join(c.DataDir, SQLiteFile), filepath.Join(c.DataDir, SQLiteFile+"-wal"), filepath.Join(c.DataDir, SQLiteFile+"-shm")} {
			fi, err := os.Stat(path)
			if err != nil {
				continue // not created yet: it will be, private
			}
			if fi.Mode().Perm()&0o004 != 0 {
				return bad("JWTAUTH_DATA_DIR", fmt.Sprintf("%s is readable by other users (mode %04o): chmod o-rwx it", path, fi.Mode().Perm()))
			}
		}
	}
	return nil
}

// Warnings returns what is allowed but worth saying once at start-up:
// in production, encryption turned off.
func (c Config) Warnings() []string {
	var w []string
	if !c.Production() {
		return w
	}
	if !c.Encrypt {
		w = append(w, "JWTAUTH_ENCRYPT is off: tokens are signed but not encrypted, so anyone holding one can read its claims (user id, session id, IP, device id)")
	}
	if !c.CookieSecure {
		w = append(w, "JWTAUTH_COOKIE_SECURE is false: browsers send the token cookies over plain HTTP too")
	}
	if c.MetricsAddr != "" && !loopback(c.MetricsAddr) {
		w = append(w, "JWTAUTH_METRICS_ADDR is not a loopback address: /metrics and /debug/pprof/ have no authentication, so keep that port off public networks")
	}
	return w
}

// loopback reports whether the listen address addr (host:port) is bound to
// a loopback address only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// lowEntropy says why key cannot be random bytes ("" when it may be): it
// is all one byte, repeats a short pattern, uses few distinct bytes, or is
// printable text. A random key of 32 bytes or more fails these with a
// probability below 1e-13.
func lowEntropy(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	distinct := map[byte]bool{}
	printable := true
	for _, b := range key {
		distinct[b] = true
		if b < 0x20 || b > 0x7e {
			printable = false
		}
	}
	switch {
	case len(distinct) == 1:
		return "every byte is the same"
	case len(distinct) < 8:
		return "it uses fewer than 8 distinct byte values"
	}
	for period := 2; period <= len(key)/2; period++ {
		if bytes.Equal(key[period:], key[:len(key)-period]) {
			return "it repeats a short pattern"
		}
	}
	if printable {
		return "it is printable text, not random bytes (base64-encode random bytes instead)"
	}
	return ""
}

// RequireKeys reports an error naming the missing key variable.
func (c Config) RequireKeys() error {
	if len(c.SigningKey) == 0 {
		return fmt.Errorf("%w: JWTAUTH_SIGNING_KEY is required (generate one with 'jwtauth keygen')", ErrConfig)
	}
	if c.Encrypt && len(c.EncryptionKeys) == 0 {
		return fmt.Errorf("%w: JWTAUTH_ENCRYPTION_KEYS is required when JWTAUTH_ENCRYPT is on (generate one with 'jwtauth keygen')", ErrConfig)
	}
	return nil
}

// IsPostgresURL reports whether u names a PostgreSQL database.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// AppConfig returns the use cases' configuration.
func (c Config) AppConfig() app.Config {
	grace := c.RefreshReuseGrace
	if grace == 0 {
		grace = -1 // explicit zero: no grace (app.Config's zero means default)
	}
	memo := c.TokenMemo
	if memo == 0 {
		memo = -1 // explicit zero: off
	}
	return app.Config{
		AccessTTL:     c.AccessTTL,
		RefreshTTL:    c.RefreshTTL,
		DevicePolicy:  domain.DevicePolicy{Limit: c.DeviceLimit, OnLimit: c.DevicePolicy},
		MaxSessions:   c.MaxSessions,
		IPBinding:     c.IPBinding,
		RotateRefresh: c.RotateRefresh,
		ReuseGrace:    grace,
		SessionMaxAge: c.SessionMaxAge,
		IdleTimeout:   c.SessionIdleTimeout,
		UserFromToken: c.UserFromToken,
		TokenMemo:     memo,
		Issuer:        c.Issuer,
		Audience:      c.Audience,

		MeterProvider:  c.MeterProvider,
		TracerProvider: c.TracerProvider,
	}
}

// ParseEncryptionKeys parses "kid:base64key,kid2:base64key" (see
// jwe.ParseKeys). Errors never contain key material.
func ParseEncryptionKeys(s string) ([]EncryptionKey, error) {
	ring, err := jwe.ParseKeys(s)
	if err != nil {
		return nil, err
	}
	keys := make([]EncryptionKey, len(ring))
	for i, k := range ring {
		keys[i] = EncryptionKey{ID: k.ID, Secret: k.Secret}
	}
	return keys, nil
}

// ParseTrustedProxies parses comma-separated CIDRs or single addresses.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(s) {
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// loader reads variables and keeps the first error.
type loader struct {
	lookup func(string) (string, bool)
	err    error
}

func (l *loader) get(name string) (string, bool) {
	v, ok := l.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != "" && l.err == nil
}

// fail keeps the first error, naming the variable. The text of a wrapped
// domain.ErrInvalidArgument is left out: the message already says what is
// wrong with the value.
func (l *loader) fail(name string, err error) {
	if err != nil && l.err == nil {
		msg := strings.TrimPrefix(err.Error(), domain.ErrInvalidArgument.Error()+": ")
		l.err = fmt.Errorf("%w: %s: %s", ErrConfig, name, msg)
	}
}

func (l *loader) str(name string, dst *string) {
	if v, ok := l.get(name); ok {
		*dst = v
	}
}

func (l *loader) duration(name string, dst *time.Duration, zeroOK bool) {
	v, ok := l.get(name)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		l.fail(name, fmt.Errorf("%q is not a duration like 10m or 720h", v))
	case d < 0 || (d == 0 && !zeroOK):
		l.fail(name, fmt.Errorf("must be positive, got %s", v))
	default:
		*dst = d
	}
}

func (l *loader) boolean(name string, dst *bool) {
	v, ok := l.get(name)
	if !ok {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, fmt.Errorf("%q is not true or false", v))
		return
	}
	*dst = b
}

func (l *loader) secret(name string, dst *Secret) {
	v, ok := l.get(name)
	if !ok {
		return
	}
	b, err := decodeBase64(v)
	if err != nil {
		l.fail(name, errors.New("is not base64"))
		return
	}
	*dst = b
}
