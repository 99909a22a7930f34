package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/domain"
)

func TestDemoUsers(t *testing.T) {
	d, err := newDemoUsers(" alice:alice-password, bob:p:w:d ,", bcrypt.MinCost, false)
	require.NoError(t, err)

	u, ok := d.check("alice", "alice-password")
	require.True(t, ok)
	assert.Equal(t, DemoUser{ID: demoUserID("alice"), Username: "alice"}, u)
	u, ok = d.check("bob", "p:w:d")
	require.True(t, ok, "passwords may contain colons")
	assert.Equal(t, "bob", u.Username)

	for _, tt := range []struct{ name, user, password string }{
		{"wrong password", "alice", "alice"},
		{"unknown user", "carol", "alice-password"},
		{"case matters", "Alice", "alice-password"},
		{"too long", "alice", "alice-password" + strings.Repeat("x", 100)},
		{"empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := d.check(tt.user, tt.password)
			assert.False(t, ok)
		})
	}

	got, err := d.LoadUser(t.Context(), demoUserID("bob"))
	require.NoError(t, err)
	assert.Equal(t, "bob", got.Username)
	_, err = d.LoadUser(t.Context(), "user-unknown")
	assert.ErrorIs(t, err, domain.ErrRevoked)
}

func TestDemoUserIDsAreStable(t *testing.T) {
	assert.Equal(t, "user-2bd806c97f0e00af", demoUserID("alice"))
	assert.NotEqual(t, demoUserID("alice"), demoUserID("bob"))
}

func TestDemoUsersInvalid(t *testing.T) {
	for _, spec := range []string{
		"", ",", "alice", "alice:", ":pw", "alice:a,alice:b",
		"alice:" + strings.Repeat("x", 73), strings.Repeat("n", 200) + ":pw",
	} {
		t.Run(spec, func(t *testing.T) {
			_, err := newDemoUsers(spec, bcrypt.MinCost, false)
			require.ErrorIs(t, err, jwtauth.ErrConfig)
			assert.Contains(t, err.Error(), "JWTAUTH_DEMO_USERS")
			assert.NotContains(t, err.Error(), "xxxxxxxx", "never the password")
		})
	}
}

func TestDemoUsersAcceptHashes(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("bob-password"), bcrypt.MinCost+1)
	require.NoError(t, err)
	for _, production := range []bool{false, true} {
		d, err := newDemoUsers("bob:"+string(hash), bcrypt.MinCost, production)
		require.NoError(t, err)
		u, ok := d.check("bob", "bob-password")
		assert.True(t, ok)
		assert.Equal(t, "bob", u.Username)
		_, ok = d.check("bob", "wrong")
		assert.False(t, ok)
		c, err := bcrypt.Cost(d.dummy)
		require.NoError(t, err)
		assert.Equal(t, bcrypt.MinCost+1, c, "the dummy costs as much as the costliest user")
	}
	_, err = newDemoUsers("bob:"+string(hash)+",carol:carol-password", bcrypt.MinCost, true)
	require.ErrorIs(t, err, jwtauth.ErrConfig)
	assert.Contains(t, err.Error(), "carol")
	assert.NotContains(t, err.Error(), "carol-password")
}
