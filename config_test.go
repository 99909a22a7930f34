package jwtauth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := jwtauth.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, jwtauth.DefaultConfig(), c)
	assert.Equal(t, 10*time.Minute, c.AccessTTL)
	assert.Equal(t, 720*time.Hour, c.RefreshTTL)
	assert.Equal(t, domain.IPStrict, c.IPBinding)
	assert.Equal(t, domain.EvictOldest, c.DevicePolicy)
	assert.True(t, c.Encrypt)
	assert.True(t, c.Cache)
	assert.Equal(t, "127.0.0.1:8080", c.Addr)
}

func TestLoadConfigReadsEveryVariable(t *testing.T) {
	sk := base64.StdEncoding.EncodeToString(randomKey(t, 32))
	ek := base64.RawURLEncoding.EncodeToString(randomKey(t, 32))
	c, err := jwtauth.LoadConfig(env(map[string]string{
		"JWTAUTH_CLOCK_SKEW":           "2s",
		"JWTAUTH_ACCESS_TTL":           "5m",
		"JWTAUTH_REFRESH_TTL":          "24h",
		"JWTAUTH_SIGNING_KEY":          sk,
		"JWTAUTH_SIGNING_ALG":          "HS256",
		"JWTAUTH_ENCRYPTION_KEYS":      "k2:" + ek + ", k1:" + ek,
		"JWTAUTH_ENCRYPT":              "false",
		"JWTAUTH_CACHE":                "false",
		"JWTAUTH_CACHE_TTL":            "1m",
		"JWTAUTH_USER_FROM_TOKEN":      "true",
		"JWTAUTH_DEVICE_LIMIT":         "3",
		"JWTAUTH_DEVICE_POLICY":        "reject",
		"JWTAUTH_DEVICE_HEADER":        "X-Client-Device",
		"JWTAUTH_IP_BINDING":           "subnet",
		"JWTAUTH_TRUSTED_PROXIES":      "10.0.0.0/8, 192.0.2.1",
		"JWTAUTH_ROTATE_REFRESH":       "true",
		"JWTAUTH_REFRESH_REUSE_GRACE":  "0s",
		"JWTAUTH_SESSION_MAX_AGE":      "48h",
		"JWTAUTH_SESSION_IDLE_TIMEOUT": "2h",
		"JWTAUTH_ISSUER":               "https://auth.example",
		"JWTAUTH_AUDIENCE":             "api,admin",
		"JWTAUTH_DATABASE_URL":         "postgres://u@db/app",
		"JWTAUTH_DATA_DIR":             "/var/lib/jwtauth",
		"JWTAUTH_ADDR":                 ":9000",
		"JWTAUTH_ENV":                  "production",
		"JWTAUTH_DEMO_USERS":           "bob:pw",
		"JWTAUTH_DB_TIMEOUT":           "3s",
		"JWTAUTH_REQUEST_TIMEOUT":      "7s",
		"JWTAUTH_DB_MAX_CONNS":         "4",
		"JWTAUTH_BUS_HEARTBEAT":        "100ms",
		"JWTAUTH_PRUNE_INTERVAL":       "1m",
		"JWTAUTH_SHUTDOWN_TIMEOUT":     "20s",
	}))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, c.AccessTTL)
	assert.Equal(t, 24*time.Hour, c.RefreshTTL)
	assert.Len(t, c.SigningKey, 32)
	assert.Equal(t, "HS256", c.SigningAlg)
	require.Len(t, c.EncryptionKeys, 2)
	assert.Equal(t, "k2", c.EncryptionKeys[0].ID)
	assert.False(t, c.Encrypt)
	assert.False(t, c.Cache)
	assert.True(t, c.UserFromToken)
	assert.Equal(t, 3, c.DeviceLimit)
	assert.Equal(t, domain.Reject, c.DevicePolicy)
	assert.Equal(t, "X-Client-Device", c.DeviceHeader)
	assert.Equal(t, domain.IPSubnet, c.IPBinding)
	assert.Equal(t, "10.0.0.0/8", c.TrustedProxies[0].String())
	assert.Equal(t, "192.0.2.1/32", c.TrustedProxies[1].String())
	assert.True(t, c.RotateRefresh)
	assert.Equal(t, time.Duration(0), c.RefreshReuseGrace)
	assert.Equal(t, 48*time.Hour, c.SessionMaxAge)
	assert.Equal(t, 2*time.Hour, c.SessionIdleTimeout)
	assert.Equal(t, "https://auth.example", c.Issuer)
	assert.Equal(t, []string{"api", "admin"}, c.Audience)
	assert.Equal(t, "postgres://u@db/app", c.DatabaseURL)
	assert.Equal(t, ":9000", c.Addr)
	assert.True(t, c.Production())
	assert.Equal(t, "bob:pw", c.DemoUsers)
	assert.Equal(t, 3*time.Second, c.DBTimeout)
	assert.Equal(t, 7*time.Second, c.RequestTimeout)
	assert.Equal(t, 4, c.DBMaxConns)
	assert.Equal(t, 100*time.Millisecond, c.BusHeartbeat)
	assert.Equal(t, time.Minute, c.PruneInterval)
	assert.Equal(t, 20*time.Second, c.ShutdownTimeout)
	assert.Equal(t, 2*time.Second, c.ClockSkew)

	ac := c.AppConfig()
	assert.Equal(t, domain.DevicePolicy{Limit: 3, OnLimit: domain.Reject}, ac.DevicePolicy)
	assert.Negative(t, ac.ReuseGrace, "an explicit 0s grace means none")
}

func TestLoadConfigRejectsBadValuesNamingTheVariable(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("short-secret-key"))
	tests := []struct {
		name, value string
	}{
		{"JWTAUTH_ACCESS_TTL", "ten minutes"},
		{"JWTAUTH_ACCESS_TTL", "-1m"},
		{"JWTAUTH_REFRESH_TTL", "0"},
		{"JWTAUTH_SIGNING_KEY", secret},
		{"JWTAUTH_SIGNING_KEY", "%%%not-base64%%%"},
		{"JWTAUTH_SIGNING_ALG", "none"},
		{"JWTAUTH_ENCRYPTION_KEYS", "k1:" + secret},
		{"JWTAUTH_ENCRYPTION_KEYS", "nokid"},
		{"JWTAUTH_ENCRYPT", "maybe"},
		{"JWTAUTH_DEVICE_LIMIT", "-2"},
		{"JWTAUTH_DEVICE_LIMIT", "three"},
		{"JWTAUTH_DEVICE_POLICY", "kick"},
		{"JWTAUTH_IP_BINDING", "loose"},
		{"JWTAUTH_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"JWTAUTH_DATABASE_URL", "mysql://x"},
		{"JWTAUTH_ENV", "staging"},
		{"JWTAUTH_DB_TIMEOUT", "0s"},
		{"JWTAUTH_REQUEST_TIMEOUT", "soon"},
		{"JWTAUTH_DB_MAX_CONNS", "0"},
		{"JWTAUTH_BUS_HEARTBEAT", "-1s"},
		{"JWTAUTH_PRUNE_INTERVAL", "0"},
		{"JWTAUTH_SHUTDOWN_TIMEOUT", "x"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%s", tt.name, tt.value), func(t *testing.T) {
			_, err := jwtauth.LoadConfig(env(map[string]string{tt.name: tt.value}))
			require.ErrorIs(t, err, jwtauth.ErrConfig)
			assert.Contains(t, err.Error(), tt.name)
			if strings.Contains(tt.name, "KEY") {
				assert.NotContains(t, err.Error(), secret, "keys never appear in errors")
			}
		})
	}
}

func TestEncryptionKeyWrittenTheWrongWayRoundIsNotPrinted(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))
	for _, value := range []string{key + ":k1", "k1:" + key + "," + key + ":k2"} {
		_, err := jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_ENCRYPTION_KEYS": value}))
		require.ErrorIs(t, err, jwtauth.ErrConfig)
		assert.Contains(t, err.Error(), "JWTAUTH_ENCRYPTION_KEYS")
		assert.NotContains(t, err.Error(), key[:20], "keys never appear in errors")
	}
}

func TestProductionRequiresKeys(t *testing.T) {
	_, err := jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_ENV": "production"}))
	require.ErrorIs(t, err, jwtauth.ErrConfig)
	assert.Contains(t, err.Error(), "JWTAUTH_SIGNING_KEY")
}

func TestSecretsNeverPrint(t *testing.T) {
	c := jwtauth.DefaultConfig()
	c.SigningKey = []byte("super-secret-signing-key-material!!")
	c.EncryptionKeys = []jwtauth.EncryptionKey{{ID: "k1", Secret: []byte("super-secret-encryption-key-32b!")}}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		assert.NotContains(t, s, "super-secret")
	}
}

func TestUnknownVariables(t *testing.T) {
	got := jwtauth.UnknownVariables([]string{
		"JWTAUTH_DEVICE_LIMT=3", "JWTAUTH_ACCESS_TTL=1m", "PATH=/bin", "JWTAUTH_SIGNINGKEY=c2VjcmV0",
		"JWT_AUTH_DEVICE_LIMIT=2", "JWTAUTH_DATABASE=postgres://x",
	})
	assert.Equal(t, []string{
		"JWTAUTH_DEVICE_LIMT is not a known variable and is ignored; did you mean JWTAUTH_DEVICE_LIMIT?",
		"JWTAUTH_SIGNINGKEY is not a known variable and is ignored; did you mean JWTAUTH_SIGNING_KEY?",
		"JWTAUTH_DATABASE is not a known variable and is ignored; did you mean JWTAUTH_DATABASE_URL?",
	}, got)
	for _, w := range got {
		assert.NotContains(t, w, "c2VjcmV0", "values are never quoted")
	}
}

// Every variable the docs name is known, so documented settings never warn.
func TestDocumentedVariablesAreKnown(t *testing.T) {
	re := regexp.MustCompile(`JWTAUTH_[A-Z0-9_]*[A-Z0-9]`)
	for _, doc := range []string{"README.md", "docs/configuration.md"} {
		data, err := os.ReadFile(doc)
		require.NoError(t, err)
		var environ []string
		for _, name := range re.FindAllString(string(data), -1) {
			if name != "JWTAUTH_DEVICE_LIMT" { // the docs' example of a misspelling
				environ = append(environ, name+"=x")
			}
		}
		require.NotEmpty(t, environ)
		assert.Empty(t, jwtauth.UnknownVariables(environ), doc)
	}
}

func TestValueMessages(t *testing.T) {
	for _, tt := range []struct {
		name, value, want string
	}{
		{"JWTAUTH_DEVICE_LIMIT", "three", `JWTAUTH_DEVICE_LIMIT: "three" is not a whole number of devices (0: no limit)`},
		{"JWTAUTH_DEVICE_LIMIT", "99999999999999999999", `JWTAUTH_DEVICE_LIMIT: "99999999999999999999" is not a whole number`},
		{"JWTAUTH_DEVICE_LIMIT", "-1", "JWTAUTH_DEVICE_LIMIT: must not be negative (0: no limit), got -1"},
		{"JWTAUTH_DEVICE_POLICY", "nope", `JWTAUTH_DEVICE_POLICY: device policy "nope" (want evict_oldest, reject or revoke_all)`},
		{"JWTAUTH_IP_BINDING", "x", `JWTAUTH_IP_BINDING: ip binding "x" (want strict, subnet or off)`},
		{"JWTAUTH_ENCRYPTION_KEYS", "abc", "JWTAUTH_ENCRYPTION_KEYS: jwe: key entry 1: want kid:base64key"},
	} {
		_, err := jwtauth.LoadConfig(func(n string) (string, bool) { return tt.value, n == tt.name })
		require.ErrorIs(t, err, jwtauth.ErrConfig)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), "strconv")
		assert.NotContains(t, err.Error(), "invalid argument", "no doubled prefix")
	}
}

// LoadConfig(nil) reads the process environment and warns about misspelt
// names on slog.Default().
func TestLoadConfigFromEnvironmentWarns(t *testing.T) {
	t.Setenv("JWTAUTH_DEVICE_LIMT", "3")
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	_, err := jwtauth.LoadConfig(nil)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "JWTAUTH_DEVICE_LIMT is not a known variable and is ignored; did you mean JWTAUTH_DEVICE_LIMIT?")
}

func randomKey(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// TestProductionRefusals: each unsafe setting stops a production
// configuration with an error naming its variable and quoting no key.
func TestProductionRefusals(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	sign, enc := randomKey(t, 64), randomKey(t, 32)
	pattern := bytes.Repeat([]byte{0x8f, 0x13, 0xa2, 0x07, 0xee, 0x51, 0xc4, 0x39, 0x6d, 0xb0}, 4)
	base := map[string]string{
		"JWTAUTH_ENV":             "production",
		"JWTAUTH_SIGNING_KEY":     b64(sign),
		"JWTAUTH_ENCRYPTION_KEYS": "k1:" + b64(enc),
		"JWTAUTH_DATABASE_URL":    "postgres://u@db/app",
	}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	privateDir := t.TempDir()
	require.NoError(t, os.Chmod(privateDir, 0o700))
	openDir := t.TempDir()
	require.NoError(t, os.Chmod(openDir, 0o755))
	openFileDir := t.TempDir()
	require.NoError(t, os.Chmod(openFileDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(openFileDir, jwtauth.SQLiteFile), nil, 0o600))
	require.NoError(t, os.Chmod(filepath.Join(openFileDir, jwtauth.SQLiteFile), 0o644))
	openWALDir := t.TempDir()
	require.NoError(t, os.Chmod(openWALDir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(openWALDir, jwtauth.SQLiteFile+"-wal"), nil, 0o600))
	require.NoError(t, os.Chmod(filepath.Join(openWALDir, jwtauth.SQLiteFile+"-wal"), 0o604))

	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
		secrets []string // must not appear in the error
	}{
		{"all-zero signing key", with("JWTAUTH_SIGNING_KEY", b64(make([]byte, 64))), "JWTAUTH_SIGNING_KEY", []string{b64(make([]byte, 64))}},
		{"repeated-byte signing key", with("JWTAUTH_SIGNING_KEY", b64(bytes.Repeat([]byte{0xa5}, 32))), "JWTAUTH_SIGNING_KEY", nil},
		{"signing key repeating a pattern", with("JWTAUTH_SIGNING_KEY", b64(pattern)), "JWTAUTH_SIGNING_KEY", []string{b64(pattern)}},
		{"signing key of few byte values", with("JWTAUTH_SIGNING_KEY", b64([]byte("abababababcdcdcdcdcdefefefefefab"))), "JWTAUTH_SIGNING_KEY", nil},
		{"signing key that is text", with("JWTAUTH_SIGNING_KEY", b64([]byte("correct horse battery staple and more"))), "JWTAUTH_SIGNING_KEY", []string{"correct horse"}},
		{"all-zero encryption key", with("JWTAUTH_ENCRYPTION_KEYS", "k1:"+b64(make([]byte, 32))), "JWTAUTH_ENCRYPTION_KEYS", []string{b64(make([]byte, 32))}},
		{"second encryption key repeated bytes", with("JWTAUTH_ENCRYPTION_KEYS", "k1:"+b64(enc)+",k0:"+b64(bytes.Repeat([]byte{7}, 32))), "JWTAUTH_ENCRYPTION_KEYS", []string{b64(enc)}},
		{"same key for signing and encryption", with("JWTAUTH_SIGNING_KEY", b64(enc), "JWTAUTH_ENCRYPTION_KEYS", "k1:"+b64(enc)), "JWTAUTH_ENCRYPTION_KEYS", []string{b64(enc)}},
		{"encryption key inside the signing key", with("JWTAUTH_ENCRYPTION_KEYS", "k1:"+b64(sign[16:48])), "JWTAUTH_ENCRYPTION_KEYS", []string{b64(sign), b64(sign[16:48])}},
		{"trusted proxies 0.0.0.0/0", with("JWTAUTH_TRUSTED_PROXIES", "10.0.0.1, 0.0.0.0/0"), "JWTAUTH_TRUSTED_PROXIES", nil},
		{"trusted proxies ::/0", with("JWTAUTH_TRUSTED_PROXIES", "::/0"), "JWTAUTH_TRUSTED_PROXIES", nil},
		{"data dir readable by others", with("JWTAUTH_DATABASE_URL", "", "JWTAUTH_DATA_DIR", openDir), "JWTAUTH_DATA_DIR", nil},
		{"SQLite file readable by others", with("JWTAUTH_DATABASE_URL", "", "JWTAUTH_DATA_DIR", openFileDir), "JWTAUTH_DATA_DIR", nil},
		{"SQLite WAL readable by others", with("JWTAUTH_DATABASE_URL", "", "JWTAUTH_DATA_DIR", openWALDir), "JWTAUTH_DATA_DIR", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jwtauth.LoadConfig(env(tt.env))
			require.ErrorIs(t, err, jwtauth.ErrConfig)
			assert.Contains(t, err.Error(), tt.wantVar)
			for _, s := range append(tt.secrets, tt.env["JWTAUTH_SIGNING_KEY"], b64(sign), b64(enc)) {
				assert.NotContains(t, err.Error(), s)
			}
			// The same settings outside production start.
			dev := maps.Clone(tt.env)
			dev["JWTAUTH_ENV"] = "development"
			_, err = jwtauth.LoadConfig(env(dev))
			assert.NoError(t, err, "development accepts it")
		})
	}

	// Controls: random keys, a private data dir, narrow proxies.
	for _, ok := range []map[string]string{
		base,
		with("JWTAUTH_DATABASE_URL", "", "JWTAUTH_DATA_DIR", privateDir),
		with("JWTAUTH_DATABASE_URL", "", "JWTAUTH_DATA_DIR", filepath.Join(privateDir, "not-yet")),
		with("JWTAUTH_TRUSTED_PROXIES", "10.0.0.0/8,fd00::/8"),
		with("JWTAUTH_ENCRYPT", "false", "JWTAUTH_ENCRYPTION_KEYS", ""),
	} {
		_, err := jwtauth.LoadConfig(env(ok))
		assert.NoError(t, err)
	}
}

func TestWarningsOnceForEncryptionOff(t *testing.T) {
	c := jwtauth.DefaultConfig()
	assert.Empty(t, c.Warnings())
	c.Encrypt = false
	assert.Empty(t, c.Warnings(), "development: no warning")
	c.Env = "production"
	w := c.Warnings()
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "JWTAUTH_ENCRYPT")
}

// The DPoP variables: each bad value stops start-up naming its variable.
func TestDPoPConfig(t *testing.T) {
	c, err := jwtauth.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, jwtauth.DPoPOff, c.DPoP)
	v, err := c.DPoPValidator()
	require.NoError(t, err)
	assert.Nil(t, v, "off: no validator")

	c, err = jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_DPOP": "Required", "JWTAUTH_DPOP_ALGS": "ES256, ES384",
		"JWTAUTH_DPOP_MAX_AGE": "30s", "JWTAUTH_DPOP_NONCE": "true", "JWTAUTH_PUBLIC_URL": "https://auth.example.com/api"}))
	require.NoError(t, err)
	assert.Equal(t, jwtauth.DPoPRequired, c.DPoP)
	assert.Equal(t, []string{"ES256", "ES384"}, c.DPoPAlgs)
	assert.Equal(t, 30*time.Second, c.DPoPMaxAge)
	_, err = c.DPoPValidator()
	require.ErrorIs(t, err, jwtauth.ErrConfig, "nonces need the signing key")
	c.SigningKey = bytes.Repeat([]byte{7}, 32)
	v, err = c.DPoPValidator()
	require.NoError(t, err)
	assert.Equal(t, "ES256 ES384", v.Algorithms())
	assert.True(t, v.NoncesRequired())

	// Nonces are stateless: another instance with the same signing key
	// accepts them, one with another key does not.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tr, err := dpop.NewTransport(key, nil)
	require.NoError(t, err)
	target := &url.URL{Scheme: "https", Host: "auth.example.com", Path: "/api/auth/login"}
	proof, err := tr.Proof("POST", target.String(), "", v.Nonce())
	require.NoError(t, err)
	other, err := c.DPoPValidator()
	require.NoError(t, err)
	_, err = other.Validate(proof, "POST", target, "")
	require.NoError(t, err, "a nonce of another instance")
	c.SigningKey = bytes.Repeat([]byte{8}, 32)
	stranger, err := c.DPoPValidator()
	require.NoError(t, err)
	_, err = stranger.Validate(proof, "POST", target, "")
	require.ErrorIs(t, err, dpop.ErrUseNonce)

	for name, value := range map[string]string{
		"JWTAUTH_DPOP": "on", "JWTAUTH_DPOP_ALGS": "HS256", "JWTAUTH_DPOP_MAX_AGE": "soon",
		"JWTAUTH_DPOP_NONCE": "maybe", "JWTAUTH_PUBLIC_URL": "ftp://auth.example.com",
	} {
		_, err := jwtauth.LoadConfig(env(map[string]string{name: value}))
		require.ErrorIs(t, err, jwtauth.ErrConfig, name)
		assert.Contains(t, err.Error(), name)
	}
	for _, alg := range []string{"none", "HS512", "RS1"} {
		_, err := jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_DPOP_ALGS": alg}))
		require.ErrorIs(t, err, jwtauth.ErrConfig, alg)
	}
}

// A device limit above the session cap would never apply its policy.
func TestDeviceLimitWithinSessionCap(t *testing.T) {
	_, err := jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_DEVICE_LIMIT": "60", "JWTAUTH_MAX_SESSIONS": "50"}))
	require.ErrorIs(t, err, jwtauth.ErrConfig)
	assert.Contains(t, err.Error(), "JWTAUTH_DEVICE_LIMIT")
	_, err = jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_DEVICE_LIMIT": "50", "JWTAUTH_MAX_SESSIONS": "50"}))
	require.NoError(t, err)
}

// Production warns about settings that are not refused but unsafe.
func TestProductionWarnings(t *testing.T) {
	c := jwtauth.DefaultConfig()
	c.Env = "production"
	c.CookieSecure = false
	c.MetricsAddr = "0.0.0.0:9090"
	w := c.Warnings()
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "JWTAUTH_COOKIE_SECURE")
	assert.Contains(t, w[1], "JWTAUTH_METRICS_ADDR")
	c.CookieSecure, c.MetricsAddr = true, "127.0.0.1:9090"
	assert.Empty(t, c.Warnings())
}

// JWTAUTH_TOKEN_MEMO sizes the verified-token memo; 0 turns it off, which
// app.Config spells as a negative number.
func TestTokenMemoVariable(t *testing.T) {
	c, err := jwtauth.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, app.DefaultTokenMemo, c.TokenMemo)
	assert.Equal(t, app.DefaultTokenMemo, c.AppConfig().TokenMemo)
	c, err = jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_TOKEN_MEMO": "0"}))
	require.NoError(t, err)
	assert.Negative(t, c.AppConfig().TokenMemo, "off")
	for _, bad := range []string{"-1", "lots", "1048577"} {
		_, err := jwtauth.LoadConfig(env(map[string]string{"JWTAUTH_TOKEN_MEMO": bad}))
		require.ErrorIs(t, err, jwtauth.ErrConfig, bad)
		assert.Contains(t, err.Error(), "JWTAUTH_TOKEN_MEMO", bad)
	}
}
