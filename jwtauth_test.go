package jwtauth_test

import (
	"context"
	"crypto/rand"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
)

func testConfig(t testing.TB) jwtauth.Config {
	t.Helper()
	cfg := jwtauth.DefaultConfig()
	cfg.SigningKey = make([]byte, 32)
	secret := make([]byte, 32)
	_, _ = rand.Read(cfg.SigningKey)
	_, _ = rand.Read(secret)
	cfg.EncryptionKeys = []jwtauth.EncryptionKey{{ID: "k1", Secret: secret}}
	cfg.DataDir = t.TempDir()
	return cfg
}

// TestBackends runs one login/authenticate/logout round through every
// injector.
func TestBackends(t *testing.T) {
	tests := []struct {
		name string
		open func(t *testing.T, cfg jwtauth.Config) (*jwtauth.Backend, func(), error)
	}{
		{"memory", func(_ *testing.T, cfg jwtauth.Config) (*jwtauth.Backend, func(), error) {
			return jwtauth.NewMemoryBackend(cfg)
		}},
		{"sqlite", func(_ *testing.T, cfg jwtauth.Config) (*jwtauth.Backend, func(), error) {
			return jwtauth.OpenBackend(context.Background(), cfg)
		}},
		{"postgres", func(t *testing.T, cfg jwtauth.Config) (*jwtauth.Backend, func(), error) {
			cfg.DatabaseURL = pgtest.DSN(t)
			return jwtauth.OpenBackend(context.Background(), cfg)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b, cleanup, err := tt.open(t, testConfig(t))
			require.NoError(t, err)
			t.Cleanup(cleanup)
			require.NoError(t, b.Ping(ctx))
			svc, err := jwtauth.NewService[struct{}](testConfig(t), b, nil)
			require.NoError(t, err)

			client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "d1"}
			pair, err := svc.Login(ctx, "alice", struct{}{}, client)
			require.NoError(t, err)
			_, err = svc.Authenticate(ctx, pair.AccessToken, client)
			require.NoError(t, err)
			require.NoError(t, svc.Logout(ctx, pair.SessionID))
			_, err = svc.Authenticate(ctx, pair.AccessToken, client)
			assert.ErrorIs(t, err, domain.ErrRevoked)
		})
	}
}

func TestBackendNeedsKeys(t *testing.T) {
	cfg := jwtauth.DefaultConfig()
	_, _, err := jwtauth.NewMemoryBackend(cfg)
	require.ErrorIs(t, err, jwtauth.ErrConfig)
	assert.Contains(t, err.Error(), "JWTAUTH_SIGNING_KEY")
}

// OpenBackend completes missing keys outside production the way 'jwtauth
// serve' does: generated once into DataDir/keys.env and reused.
func TestOpenBackendDevelopmentKeys(t *testing.T) {
	ctx := context.Background()
	cfg := jwtauth.DefaultConfig()
	cfg.DataDir = t.TempDir()
	b, cleanup, err := jwtauth.OpenBackend(ctx, cfg)
	require.NoError(t, err)
	svc, err := jwtauth.NewService[struct{}](cfg, b, nil)
	require.NoError(t, err)
	client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "d1"}
	pair, err := svc.Login(ctx, "alice", struct{}{}, client)
	require.NoError(t, err)
	cleanup()
	_, err = os.Stat(filepath.Join(cfg.DataDir, "keys.env"))
	require.NoError(t, err)

	b, cleanup, err = jwtauth.OpenBackend(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(cleanup)
	svc, err = jwtauth.NewService[struct{}](cfg, b, nil)
	require.NoError(t, err)
	_, err = svc.Authenticate(ctx, pair.AccessToken, client)
	assert.NoError(t, err, "the saved keys are reused: tokens survive a restart")

	prod := jwtauth.DefaultConfig()
	prod.Env = "production"
	prod.DataDir = t.TempDir()
	_, _, err = jwtauth.OpenBackend(ctx, prod)
	require.ErrorIs(t, err, jwtauth.ErrConfig)
	assert.Contains(t, err.Error(), "JWTAUTH_SIGNING_KEY is required")
	entries, err := os.ReadDir(prod.DataDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing generated in production")
}

func TestDataDirErrorNamesThePath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	cfg := testConfig(t)
	cfg.DataDir = filepath.Join(file, "sub")
	_, _, err := jwtauth.OpenBackend(context.Background(), cfg)
	require.ErrorIs(t, err, jwtauth.ErrConfig)
	assert.Contains(t, err.Error(), "JWTAUTH_DATA_DIR")
	assert.Contains(t, err.Error(), cfg.DataDir)
}

func TestUnreachableDatabaseNamesTheVariable(t *testing.T) {
	cfg := testConfig(t)
	cfg.DatabaseURL = "postgres://u:s3cret@127.0.0.1:1/x?connect_timeout=2"
	_, _, err := jwtauth.OpenBackend(context.Background(), cfg)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.Contains(t, err.Error(), "JWTAUTH_DATABASE_URL")
	assert.NotContains(t, err.Error(), "s3cret")
}
