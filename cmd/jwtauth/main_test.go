package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// runCmd runs the CLI in-process.
func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, strings.NewReader(stdin), &out, &errb, mapLookup(env), environ(env))
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	// Help for the program: stdout, exit 0.
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"-help"}} {
		code, out, errOut := runCmd(t, nil, "", args...)
		assert.Equal(t, 0, code, "%q", args)
		assert.Empty(t, errOut, "%q", args)
		assert.Contains(t, out, "usage: jwtauth <command>", "%q", args)
	}
	// Help for each command, however asked: stdout, exit 0, nothing run
	// (inspect --help is not read as a token, serve --help serves nothing).
	for _, cmd := range []string{"serve", "migrate", "keygen", "inspect"} {
		for _, args := range [][]string{{"help", cmd}, {cmd, "--help"}, {cmd, "-h"}, {cmd, "-help"}, {cmd, "help"}} {
			code, out, errOut := runCmd(t, nil, "", args...)
			assert.Equal(t, 0, code, "%q", args)
			assert.Empty(t, errOut, "%q", args)
			assert.True(t, strings.HasPrefix(out, "usage: jwtauth "+cmd), "%q: %s", args, out)
		}
	}
	// Usage errors: stderr, exit 2.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "usage: jwtauth <command>"},
		{[]string{"bogus"}, "usage: jwtauth <command>"},
		{[]string{"--bogus"}, "usage: jwtauth <command>"},
		{[]string{"help", "bogus"}, "usage: jwtauth <command>"},
		{[]string{"keygen", "extra"}, "usage: jwtauth keygen"},
		{[]string{"inspect"}, "usage: jwtauth inspect"},
		{[]string{"inspect", "a", "b"}, "usage: jwtauth inspect"},
		{[]string{"serve", "x"}, "usage: jwtauth serve"},
		{[]string{"migrate", "x"}, "usage: jwtauth migrate"},
	} {
		code, out, errOut := runCmd(t, nil, "", tt.args...)
		assert.Equal(t, 2, code, "%q", tt.args)
		assert.Empty(t, out, "%q", tt.args)
		assert.Contains(t, errOut, tt.want, "%q", tt.args)
	}
	code, _, errOut := runCmd(t, nil, "", "bogus")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "bogus"`)
}

func TestKeygen(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "", "keygen")
	require.Equal(t, 0, code)
	assert.Empty(t, errOut)
	re := regexp.MustCompile(`^JWTAUTH_SIGNING_KEY=([A-Za-z0-9+/]{86}==)\nJWTAUTH_ENCRYPTION_KEYS=((k\d{8}-[0-9a-f]{12}):[A-Za-z0-9+/]{43}=)\n$`)
	m := re.FindStringSubmatch(out)
	require.NotNil(t, m, "output %q", out)
	cfg, err := jwtauth.LoadConfig(mapLookup(map[string]string{
		"JWTAUTH_ENV": "production", "JWTAUTH_SIGNING_KEY": m[1], "JWTAUTH_ENCRYPTION_KEYS": m[2],
	}))
	require.NoError(t, err, "keygen's output is a valid production configuration")
	assert.Len(t, cfg.SigningKey, 64)
	for _, alg := range []string{"HS384", "HS512"} {
		_, err := jwtauth.LoadConfig(mapLookup(map[string]string{
			"JWTAUTH_ENV": "production", "JWTAUTH_SIGNING_ALG": alg, "JWTAUTH_SIGNING_KEY": m[1], "JWTAUTH_ENCRYPTION_KEYS": m[2],
		}))
		assert.NoError(t, err, "the key is long enough for %s", alg)
	}

	// A same-day rotation: the new ring first, the old key after it.
	_, again, _ := runCmd(t, nil, "", "keygen")
	assert.NotEqual(t, out, again)
	m2 := re.FindStringSubmatch(again)
	require.NotNil(t, m2, "output %q", again)
	assert.NotEqual(t, m[3], m2[3], "two keygen runs the same day give different key ids")
	_, err = jwtauth.LoadConfig(mapLookup(map[string]string{
		"JWTAUTH_ENV": "production", "JWTAUTH_SIGNING_KEY": m[1], "JWTAUTH_ENCRYPTION_KEYS": m2[2] + "," + m[2],
	}))
	assert.NoError(t, err, "the rotated ring has no duplicate key id")
}

func TestServeRejectsBadConfiguration(t *testing.T) {
	secret := jwtauth.GenerateSigningKey(16)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{"JWTAUTH_ACCESS_TTL": "soon"}, "JWTAUTH_ACCESS_TTL"},
		{"bad policy", map[string]string{"JWTAUTH_DEVICE_POLICY": "kick"}, "JWTAUTH_DEVICE_POLICY"},
		{"short key", map[string]string{"JWTAUTH_SIGNING_KEY": secret}, "JWTAUTH_SIGNING_KEY"},
		{"production without keys", map[string]string{"JWTAUTH_ENV": "production"}, "JWTAUTH_SIGNING_KEY"},
		{"production without encryption keys", map[string]string{"JWTAUTH_ENV": "production", "JWTAUTH_SIGNING_KEY": jwtauth.GenerateSigningKey(32)}, "JWTAUTH_ENCRYPTION_KEYS"},
		{"bad demo users", map[string]string{"JWTAUTH_DEMO_USERS": "alice"}, "JWTAUTH_DEMO_USERS"},
		{"bad database url", map[string]string{"JWTAUTH_DATABASE_URL": "mysql://x"}, "JWTAUTH_DATABASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t, tt.env)
			if env["JWTAUTH_ENV"] == "production" {
				delete(env, "JWTAUTH_DATA_DIR") // nothing may be generated
			}
			code, out, errOut := runCmd(t, env, "", "serve")
			assert.Equal(t, 2, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.want)
			assert.NotContains(t, errOut, secret)
		})
	}
}

func TestServeRunsUntilCancelled(t *testing.T) {
	env := testEnv(t, map[string]string{"JWTAUTH_DEVICE_LIMT": "3"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, strings.NewReader(""), pw, &errOut, mapLookup(env), environ(env))
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "stderr: %s", errOut.String())
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), line)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	r := do(t, http.MethodGet, base+"/healthz", "", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	login(t, base, "alice", "alice-password")

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errOut.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Contains(t, errOut.String(), "shutting down")
	assert.Contains(t, errOut.String(), "JWTAUTH_DEVICE_LIMT is not a known variable and is ignored; did you mean JWTAUTH_DEVICE_LIMIT?")
}

func TestUnknownVariablesWarnedByEveryCommand(t *testing.T) {
	env := map[string]string{"JWTAUTH_DATA_DIR": t.TempDir(), "JWTAUTH_ACESS_TTL": "1m"}
	for _, args := range [][]string{{"migrate"}, {"inspect", "not-a-token"}} {
		_, _, errOut := runCmd(t, env, "", args...)
		assert.Contains(t, errOut, "warning: JWTAUTH_ACESS_TTL is not a known variable and is ignored; did you mean JWTAUTH_ACCESS_TTL?", "%q", args)
		assert.NotContains(t, errOut, "1m", "values are never quoted")
	}
}

func TestMigrate(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		env := map[string]string{"JWTAUTH_DATA_DIR": t.TempDir()}
		testMigrate(t, env, "sqlite ")
	})
	t.Run("postgres", func(t *testing.T) {
		env := map[string]string{"JWTAUTH_DATABASE_URL": pgtest.DSN(t), "JWTAUTH_ENV": "production"}
		testMigrate(t, env, "postgres postgres://")
	})
}

func testMigrate(t *testing.T, env map[string]string, where string) {
	code, out, errOut := runCmd(t, env, "", "migrate")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `^`+regexp.QuoteMeta(where)+`.*: migrated schema from version 0 to [1-9]\d*\n$`, out)
	code, out, errOut = runCmd(t, env, "", "migrate")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `schema already at version [1-9]\d*, nothing to do\n$`, out)
}

func TestMigrateUnreachableDatabase(t *testing.T) {
	env := map[string]string{"JWTAUTH_DATABASE_URL": "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"}
	code, _, errOut := runCmd(t, env, "", "migrate")
	assert.Equal(t, 1, code)
	assert.NotContains(t, errOut, "hunter2")
}

// inspectEnv is a configuration with fixed keys.
func inspectEnv(t *testing.T) (map[string]string, jwtauth.Config) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o700)) // production refuses a data dir others can read
	env := map[string]string{
		"JWTAUTH_ENV":             "production",
		"JWTAUTH_DATA_DIR":        dir,
		"JWTAUTH_SIGNING_KEY":     jwtauth.GenerateSigningKey(32),
		"JWTAUTH_ENCRYPTION_KEYS": jwtauth.GenerateEncryptionKeys(time.Now()),
	}
	cfg, err := jwtauth.LoadConfig(mapLookup(env))
	require.NoError(t, err)
	return env, cfg
}

// issue mints a token pair with cfg's keys on a service whose clock is
// offset from now.
func issue(t *testing.T, cfg jwtauth.Config, offset time.Duration) app.Pair {
	codec, err := jwtcodec.New(jwtcodec.Config{Method: cfg.SigningAlg, Key: cfg.SigningKey})
	require.NoError(t, err)
	var cipher *jwe.Cipher
	if cfg.Encrypt {
		cipher, err = jwe.New(jwe.Key{ID: cfg.EncryptionKeys[0].ID, Secret: cfg.EncryptionKeys[0].Secret})
		require.NoError(t, err)
	}
	deps := app.Deps[DemoUser]{Store: memory.NewStore(nil), Codec: codec}
	if cipher != nil {
		deps.Cipher = cipher
	}
	svc, err := app.New(app.Config{Now: func() time.Time { return time.Now().Add(offset) }}, deps)
	require.NoError(t, err)
	pair, err := svc.Login(t.Context(), "user-1", DemoUser{ID: "user-1", Username: "alice"}, domain.ClientInfo{DeviceID: "d1"})
	require.NoError(t, err)
	return pair
}

func TestInspect(t *testing.T) {
	env, cfg := inspectEnv(t)
	pair := issue(t, cfg, 0)

	code, out, errOut := runCmd(t, env, "", "inspect", pair.AccessToken)
	require.Equal(t, 0, code, errOut)
	var got struct {
		Encrypted  bool
		JWEHeader  map[string]any `json:"jwe_header"`
		JWSHeader  map[string]any `json:"jws_header"`
		Claims     map[string]any
		Signature  string
		Validation string
		Expiry     struct {
			Expired bool
			In      string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.True(t, got.Encrypted)
	assert.Equal(t, "dir", got.JWEHeader["alg"])
	assert.Equal(t, cfg.EncryptionKeys[0].ID, got.JWEHeader["kid"])
	assert.Equal(t, "HS256", got.JWSHeader["alg"])
	assert.Equal(t, "access", got.Claims["typ"])
	assert.Equal(t, "user-1", got.Claims["sub"])
	assert.Equal(t, "valid", got.Signature)
	assert.Equal(t, "ok", got.Validation)
	assert.False(t, got.Expiry.Expired)
	left, err := time.ParseDuration(got.Expiry.In)
	require.NoError(t, err)
	assert.InDelta(t, 10*time.Minute, left, float64(5*time.Second), "expires in 10m")
	assert.Contains(t, out, "\n  \"claims\": {\n", "indented")
	for _, k := range cfg.EncryptionKeys {
		assert.NotContains(t, out, string(k.Secret))
	}
	assert.NotContains(t, out, env["JWTAUTH_SIGNING_KEY"])

	// From stdin, with a Bearer prefix.
	code, out2, _ := runCmd(t, env, "Bearer "+pair.RefreshToken+"\n", "inspect", "-")
	require.Equal(t, 0, code)
	assert.Contains(t, out2, `"typ": "refresh"`)
}

func TestInspectExpired(t *testing.T) {
	env, cfg := inspectEnv(t)
	pair := issue(t, cfg, -time.Hour)
	code, out, _ := runCmd(t, env, "", "inspect", pair.AccessToken)
	require.Equal(t, 0, code, "an expired token still decodes")
	assert.Contains(t, out, `"expired": true`)
	assert.Contains(t, out, "token expired")
}

func TestInspectFailures(t *testing.T) {
	env, cfg := inspectEnv(t)
	pair := issue(t, cfg, 0)
	otherEnv, _ := inspectEnv(t)

	code, out, errOut := runCmd(t, otherEnv, "", "inspect", pair.AccessToken)
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "cannot decrypt the token with the configured keys")

	flipped := []byte(pair.AccessToken)
	flipped[len(flipped)-3] ^= 1
	code, _, errOut = runCmd(t, env, "", "inspect", string(flipped))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "cannot decrypt")

	code, _, errOut = runCmd(t, env, "", "inspect", "not-a-token")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not a token")

	// A plain JWS (encryption off) signed with another key: decoded, but
	// the signature is invalid.
	env["JWTAUTH_ENCRYPT"] = "false"
	plainCfg, err := jwtauth.LoadConfig(mapLookup(otherEnv))
	require.NoError(t, err)
	plainCfg.Encrypt = false
	plain := issue(t, plainCfg, 0)
	code, out, _ = runCmd(t, env, "", "inspect", plain.AccessToken)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, `"signature": "invalid"`)
	assert.Contains(t, out, `"encrypted": false`)
}

func TestInspectUsesDevelopmentKeysFile(t *testing.T) {
	env := testEnv(t, nil)
	cfg := testConfig(t, env) // generates keys.env like serve
	pair := issue(t, cfg, 0)
	code, out, errOut := runCmd(t, map[string]string{"JWTAUTH_DATA_DIR": env["JWTAUTH_DATA_DIR"]}, "", "inspect", pair.AccessToken)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"signature": "valid"`)
}

// inspect asks the configured store: a live token is "not revoked", a
// logged-out one "revoked" (and not "validation": "ok"), and without a
// database it says it did not check.
func TestInspectRevocation(t *testing.T) {
	type rev struct {
		Checked bool
		Revoked *bool
		Reason  string
	}
	type result struct {
		Validation string
		Revocation rev
	}
	inspectOut := func(t *testing.T, env map[string]string, token string) result {
		t.Helper()
		code, out, errOut := runCmd(t, env, "", "inspect", token)
		require.Equal(t, 0, code, errOut)
		var r result
		require.NoError(t, json.Unmarshal([]byte(out), &r), out)
		return r
	}
	backends := map[string]func(t *testing.T, env map[string]string){
		"sqlite":   func(*testing.T, map[string]string) {},
		"postgres": func(t *testing.T, env map[string]string) { env["JWTAUTH_DATABASE_URL"] = pgtest.DSN(t) },
	}
	for name, setup := range backends {
		t.Run(name, func(t *testing.T) {
			env, _ := inspectEnv(t)
			setup(t, env)
			cfg, err := jwtauth.LoadConfig(mapLookup(env))
			require.NoError(t, err)
			if name == "sqlite" {
				r := inspectOut(t, env, issue(t, cfg, 0).AccessToken)
				assert.False(t, r.Revocation.Checked)
				assert.Nil(t, r.Revocation.Revoked)
				assert.Contains(t, r.Revocation.Reason, "not checked: no SQLite database at")
				_, err := os.Stat(filepath.Join(env["JWTAUTH_DATA_DIR"], "jwtauth.db"))
				assert.True(t, os.IsNotExist(err), "inspect creates no database")
			}
			// Log in and out on the real store, closing it between steps.
			withService := func(fn func(svc *app.Service[DemoUser])) {
				b, cleanup, err := jwtauth.OpenBackend(t.Context(), cfg)
				require.NoError(t, err)
				defer cleanup()
				svc, err := jwtauth.NewService[DemoUser](cfg, b, nil)
				require.NoError(t, err)
				fn(svc)
			}
			var pair app.Pair
			withService(func(svc *app.Service[DemoUser]) {
				pair, err = svc.Login(t.Context(), "user-1", DemoUser{ID: "user-1"}, domain.ClientInfo{DeviceID: "d1"})
				require.NoError(t, err)
			})
			r := inspectOut(t, env, pair.AccessToken)
			assert.Equal(t, "ok", r.Validation)
			assert.True(t, r.Revocation.Checked, r.Revocation.Reason)
			require.NotNil(t, r.Revocation.Revoked)
			assert.False(t, *r.Revocation.Revoked)

			withService(func(svc *app.Service[DemoUser]) { require.NoError(t, svc.Logout(t.Context(), pair.SessionID)) })
			for _, tok := range []string{pair.AccessToken, pair.RefreshToken} {
				r = inspectOut(t, env, tok)
				assert.True(t, r.Revocation.Checked)
				require.NotNil(t, r.Revocation.Revoked)
				assert.True(t, *r.Revocation.Revoked)
				assert.Contains(t, r.Revocation.Reason, "session was revoked")
				assert.True(t, strings.HasPrefix(r.Validation, "revoked: "), r.Validation)
			}

			withService(func(svc *app.Service[DemoUser]) {
				pair, err = svc.Login(t.Context(), "user-1", DemoUser{ID: "user-1"}, domain.ClientInfo{DeviceID: "d1"})
				require.NoError(t, err)
				require.NoError(t, svc.Invalidate(t.Context(), "user-1", domain.Access))
			})
			r = inspectOut(t, env, pair.AccessToken)
			require.NotNil(t, r.Revocation.Revoked)
			assert.True(t, *r.Revocation.Revoked)
			assert.Contains(t, r.Revocation.Reason, "access generation was rotated")
		})
	}
}
