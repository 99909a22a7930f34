package jwtauth_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
)

func devConfig(t *testing.T, dir string, extra map[string]string) jwtauth.Config {
	t.Helper()
	env := map[string]string{"JWTAUTH_DATA_DIR": dir}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := jwtauth.LoadConfig(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
	require.NoError(t, err)
	return cfg
}

func TestDevKeysGeneratedOnceAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	cfg := devConfig(t, dir, nil)
	require.NoError(t, cfg.DevKeys(log, true))
	require.Len(t, cfg.SigningKey, 32)
	require.Len(t, cfg.EncryptionKeys, 1)
	require.NoError(t, cfg.Validate())
	assert.Contains(t, logs.String(), "generated development keys")
	assert.NotContains(t, logs.String(), cfg.EncryptionKeys[0].ID+":", "never a key in the log")

	fi, err := os.Stat(filepath.Join(dir, "keys.env"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	logs.Reset()
	again := devConfig(t, dir, nil)
	require.NoError(t, again.DevKeys(log, true))
	assert.Equal(t, cfg.SigningKey, again.SigningKey, "reused on the next start")
	assert.Equal(t, cfg.EncryptionKeys, again.EncryptionKeys)
	assert.Empty(t, logs.String(), "no warning when reusing")
}

func TestDevKeysKeepEnvironmentKeysOutOfTheFile(t *testing.T) {
	dir := t.TempDir()
	signing := jwtauth.GenerateSigningKey(32)
	cfg := devConfig(t, dir, map[string]string{"JWTAUTH_SIGNING_KEY": signing})
	require.NoError(t, cfg.DevKeys(slog.New(slog.DiscardHandler), true))
	data, err := os.ReadFile(filepath.Join(dir, "keys.env"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "JWTAUTH_SIGNING_KEY", "the environment's key is not copied")
	assert.Contains(t, string(data), "JWTAUTH_ENCRYPTION_KEYS"+"=k")
	assert.Len(t, cfg.EncryptionKeys, 1)

	// A later start without the variable completes the file.
	cfg = devConfig(t, dir, nil)
	require.NoError(t, cfg.DevKeys(slog.New(slog.DiscardHandler), true))
	data, err = os.ReadFile(filepath.Join(dir, "keys.env"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "JWTAUTH_SIGNING_KEY"+"=")
	assert.Equal(t, 2, strings.Count(string(data), "JWTAUTH_"))
}

func TestDevKeysSizedForTheAlgorithm(t *testing.T) {
	cfg := devConfig(t, t.TempDir(), map[string]string{"JWTAUTH_SIGNING_ALG": "HS512", "JWTAUTH_ENCRYPT": "false"})
	require.NoError(t, cfg.DevKeys(slog.New(slog.DiscardHandler), true))
	assert.Len(t, cfg.SigningKey, 64)
	assert.Empty(t, cfg.EncryptionKeys, "no ring when encryption is off")
	require.NoError(t, cfg.Validate())
}

func TestDevKeysWithoutGenerate(t *testing.T) {
	dir := t.TempDir()
	cfg := devConfig(t, dir, nil)
	require.NoError(t, cfg.DevKeys(slog.New(slog.DiscardHandler), false))
	assert.Empty(t, cfg.SigningKey)
	_, err := os.Stat(filepath.Join(dir, "keys.env"))
	assert.True(t, os.IsNotExist(err), "nothing written")
}

func TestDevKeysBadFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys.env"),
		[]byte("JWTAUTH_SIGNING_KEY=c2hvcnQ=\nJWTAUTH_ENCRYPTION_KEYS=k1:c2hvcnQ=\n"), 0o600))
	cfg := devConfig(t, dir, nil)
	err := cfg.DevKeys(slog.New(slog.DiscardHandler), true)
	require.ErrorIs(t, err, jwtauth.ErrConfig)
	assert.Contains(t, err.Error(), "JWTAUTH_SIGNING_KEY")
	assert.Contains(t, err.Error(), "keys.env")
	assert.NotContains(t, err.Error(), "c2hvcnQ")
}

func TestDevKeysConcurrentStarts(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	cfgs := make([]jwtauth.Config, n)
	var wg sync.WaitGroup
	for i := range n {
		cfgs[i] = devConfig(t, dir, nil)
		wg.Go(func() { assert.NoError(t, cfgs[i].DevKeys(slog.New(slog.DiscardHandler), true)) })
	}
	wg.Wait()
	for i := range n {
		assert.Equal(t, cfgs[0].SigningKey, cfgs[i].SigningKey, "every process uses the saved keys")
		assert.Equal(t, cfgs[0].EncryptionKeys, cfgs[i].EncryptionKeys)
	}
}
