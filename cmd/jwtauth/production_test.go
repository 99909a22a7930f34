package main

import (
	"encoding/base64"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/jwtauth/jwtauth"
)

// prodEnv is a production configuration that starts: random keys, a
// private data dir, a hashed demo user.
func prodEnv(t *testing.T, hash string) map[string]string {
	dir := filepath.Join(t.TempDir(), "data")
	return map[string]string{
		"JWTAUTH_ENV":             "production",
		"JWTAUTH_ADDR":            "127.0.0.1:0",
		"JWTAUTH_DATA_DIR":        dir,
		"JWTAUTH_SIGNING_KEY":     jwtauth.GenerateSigningKey(64),
		"JWTAUTH_ENCRYPTION_KEYS": jwtauth.GenerateEncryptionKeys(time.Now()),
		"JWTAUTH_DEMO_USERS":      "alice:" + hash,
	}
}

func TestPasswd(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "s3cret-Passw0rd\n", "passwd", "alice")
	require.Equal(t, 0, code, errOut)
	name, hash, ok := strings.Cut(strings.TrimSpace(out), ":")
	require.True(t, ok, "output %q", out)
	assert.Equal(t, "alice", name)
	assert.True(t, strings.HasPrefix(hash, "$2b$"), hash)
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret-Passw0rd")))
	assert.NotContains(t, out+errOut, "s3cret")

	code, out, _ = runCmd(t, nil, "pw", "passwd")
	require.Equal(t, 0, code)
	assert.True(t, isBcryptHash(strings.TrimSpace(out)), "without a name: the hash alone")

	for _, tc := range []struct {
		stdin string
		args  []string
	}{{"", []string{"passwd"}}, {"\n", []string{"passwd", "a"}}, {"pw", []string{"passwd", "a:b"}}, {"pw", []string{"passwd", "a", "b"}}, {strings.Repeat("x", 73), []string{"passwd"}}} {
		code, out, _ := runCmd(t, nil, tc.stdin, tc.args...)
		assert.Equal(t, 2, code, "%q %q", tc.stdin, tc.args)
		assert.Empty(t, out)
	}
}

// TestServeProductionRefusals: each unsafe production setting exits 2
// before anything starts, naming its variable and printing no key.
func TestServeProductionRefusals(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-password"), bcrypt.MinCost)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString
	zero32 := b64(make([]byte, 32))
	openDir := t.TempDir()
	require.NoError(t, os.Chmod(openDir, 0o755))

	tests := []struct {
		name    string
		change  func(env map[string]string)
		wantVar string
	}{
		{"built-in demo user", func(e map[string]string) { delete(e, "JWTAUTH_DEMO_USERS") }, "JWTAUTH_DEMO_USERS"},
		{"built-in demo user spelt out", func(e map[string]string) { e["JWTAUTH_DEMO_USERS"] = "alice:alice-password" }, "JWTAUTH_DEMO_USERS"},
		{"plaintext password", func(e map[string]string) { e["JWTAUTH_DEMO_USERS"] += ",bob:bob-password" }, "JWTAUTH_DEMO_USERS"},
		{"broken hash", func(e map[string]string) { e["JWTAUTH_DEMO_USERS"] = "bob:$2b$10$short" }, "JWTAUTH_DEMO_USERS"},
		{"all-zero signing key", func(e map[string]string) { e["JWTAUTH_SIGNING_KEY"] = b64(make([]byte, 64)) }, "JWTAUTH_SIGNING_KEY"},
		{"repeated-byte signing key", func(e map[string]string) { e["JWTAUTH_SIGNING_KEY"] = b64([]byte(strings.Repeat("k", 64))) }, "JWTAUTH_SIGNING_KEY"},
		{"all-zero encryption key", func(e map[string]string) { e["JWTAUTH_ENCRYPTION_KEYS"] = "k1:" + zero32 }, "JWTAUTH_ENCRYPTION_KEYS"},
		{"same key for both", func(e map[string]string) {
			k := jwtauth.GenerateSigningKey(32)
			e["JWTAUTH_SIGNING_KEY"], e["JWTAUTH_ENCRYPTION_KEYS"] = k, "k1:"+k
		}, "JWTAUTH_ENCRYPTION_KEYS"},
		{"trust every proxy", func(e map[string]string) { e["JWTAUTH_TRUSTED_PROXIES"] = "0.0.0.0/0" }, "JWTAUTH_TRUSTED_PROXIES"},
		{"trust every IPv6 proxy", func(e map[string]string) { e["JWTAUTH_TRUSTED_PROXIES"] = "::/0" }, "JWTAUTH_TRUSTED_PROXIES"},
		{"data dir readable by others", func(e map[string]string) { e["JWTAUTH_DATA_DIR"] = openDir }, "JWTAUTH_DATA_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := prodEnv(t, string(hash))
			tt.change(env)
			code, out, errOut := runCmd(t, env, "", "serve")
			assert.Equal(t, 2, code, errOut)
			assert.Empty(t, out, "nothing started")
			assert.Contains(t, errOut, tt.wantVar)
			for _, name := range []string{"JWTAUTH_SIGNING_KEY", "JWTAUTH_ENCRYPTION_KEYS"} {
				if v := env[name]; v != "" {
					_, secret, _ := strings.Cut(v, ":") // the ring's key, or the signing key itself
					if name == "JWTAUTH_SIGNING_KEY" {
						secret = v
					}
					assert.NotContains(t, errOut, secret, "no key in the output")
				}
			}
			assert.NotContains(t, errOut, "alice-password")
			assert.NotContains(t, errOut, "bob-password")
			_, err := os.Stat(filepath.Join(env["JWTAUTH_DATA_DIR"], "jwtauth.db"))
			assert.ErrorIs(t, err, os.ErrNotExist, "no database was created")
		})
	}
}

// TestServeProductionStartsWithHashes: the control: hashed users, random
// keys and a private data dir start, the database file is 0600, and
// encryption off is warned about once.
func TestServeProductionStartsWithHashes(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("alice-password"), bcrypt.MinCost)
	require.NoError(t, err)
	env := prodEnv(t, string(hash))
	cfg := testConfig(t, env)
	s, err := newServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close(10 * time.Second) })
	u, ok := s.users.check("alice", "alice-password")
	require.True(t, ok)
	assert.Equal(t, "alice", u.Username)
	for _, name := range []string{"jwtauth.db", "jwtauth.db-wal", "jwtauth.db-shm"} {
		fi, err := os.Stat(filepath.Join(env["JWTAUTH_DATA_DIR"], name))
		require.NoError(t, err, "the migrations wrote: %s exists", name)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}

	off := maps.Clone(env)
	off["JWTAUTH_ENCRYPT"] = "false"
	delete(off, "JWTAUTH_ENCRYPTION_KEYS")
	assert.Len(t, testConfig(t, off).Warnings(), 1)
}
