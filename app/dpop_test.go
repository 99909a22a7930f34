package app_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// Thumbprints of two DPoP keys, as a transport that validated a proof
// passes them in ClientInfo.JKT.
const (
	keyA = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	keyB = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

func withKey(c domain.ClientInfo, jkt string) domain.ClientInfo {
	c.JKT = jkt
	return c
}

// TestKeyBoundSession: a login that proved a key binds the session and
// both tokens to it; the access token then needs a proof by that key, and
// the session refreshes only with it. An unbound token is refused when the
// request proves a key.
func TestKeyBoundSession(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.RotateRefresh = true })
	ctx := context.Background()
	pair := f.login(t, "alice", withKey(alice, keyA))
	assert.Equal(t, keyA, pair.JKT)

	p, err := f.svc.Authenticate(ctx, pair.AccessToken, withKey(alice, keyA))
	require.NoError(t, err)
	assert.Equal(t, keyA, p.Claims.JKT, "cnf.jkt")
	sessions, err := f.svc.Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, sessions, 1)
	assert.Equal(t, keyA, sessions[0].JKT, "the session records the key")

	for name, client := range map[string]domain.ClientInfo{"no proof (Bearer use)": alice, "another key": withKey(alice, keyB)} {
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, client)
		assert.ErrorIs(t, err, domain.ErrKeyMismatch, "authenticate, %s", name)
		_, err = f.svc.Verify(ctx, pair.AccessToken, client)
		assert.ErrorIs(t, err, domain.ErrKeyMismatch, "verify access, %s", name)
		_, err = f.svc.Verify(ctx, pair.RefreshToken, client)
		assert.ErrorIs(t, err, domain.ErrKeyMismatch, "verify refresh, %s", name)
		_, err = f.svc.Refresh(ctx, pair.RefreshToken, client)
		assert.ErrorIs(t, err, domain.ErrKeyMismatch, "refresh, %s", name)
	}

	next, err := f.svc.Refresh(ctx, pair.RefreshToken, withKey(alice, keyA))
	require.NoError(t, err, "the mismatched refreshes changed nothing")
	assert.Equal(t, keyA, next.JKT, "rotated tokens stay bound")
	_, err = f.svc.Authenticate(ctx, next.AccessToken, withKey(alice, keyA))
	require.NoError(t, err)
	_, err = f.svc.Authenticate(ctx, next.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrKeyMismatch)
	_, err = f.svc.Refresh(ctx, next.RefreshToken, withKey(alice, keyA))
	require.NoError(t, err)

	plain := f.login(t, "bob", phone)
	assert.Empty(t, plain.JKT)
	_, err = f.svc.Authenticate(ctx, plain.AccessToken, withKey(phone, keyA))
	assert.ErrorIs(t, err, domain.ErrKeyMismatch, "a proof with an unbound token")
	_, err = f.svc.Refresh(ctx, plain.RefreshToken, withKey(phone, keyA))
	assert.ErrorIs(t, err, domain.ErrKeyMismatch, "an unbound session is not bound by a refresh")
	_, err = f.svc.Authenticate(ctx, plain.AccessToken, phone)
	assert.NoError(t, err)
}

// TestKeyThumbprintBounded: an oversized thumbprint is a bad argument,
// not a session bound to it.
func TestKeyThumbprintBounded(t *testing.T) {
	f := newFixture(t, nil)
	long := make([]byte, app.MaxJKTLen+1)
	for i := range long {
		long[i] = 'k'
	}
	_, err := f.svc.Login(context.Background(), "alice", f.users["alice"], withKey(alice, string(long)))
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	_, err = f.svc.Login(context.Background(), "alice", f.users["alice"], withKey(alice, "\xff"))
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
}
