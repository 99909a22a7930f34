package jwtauth_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
)

func TestLoadConfigBrowserCookies(t *testing.T) {
	c, err := jwtauth.LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Equal(t, http.SameSiteLaxMode, c.CookieSameSite)
	assert.True(t, c.CookieSecure)
	assert.Empty(t, c.AllowedOrigins)

	c, err = jwtauth.LoadConfig(env(map[string]string{
		"JWTAUTH_COOKIE_SAMESITE": "Strict",
		"JWTAUTH_COOKIE_SECURE":   "false",
		"JWTAUTH_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:5173",
	}))
	require.NoError(t, err)
	assert.Equal(t, http.SameSiteStrictMode, c.CookieSameSite)
	assert.False(t, c.CookieSecure)
	assert.Equal(t, []string{"https://app.example.com", "http://localhost:5173"}, c.AllowedOrigins)

	for name, v := range map[string]string{
		"JWTAUTH_COOKIE_SAMESITE": "none",
		"JWTAUTH_COOKIE_SECURE":   "maybe",
		"JWTAUTH_ALLOWED_ORIGINS": "https://app.example.com/path",
	} {
		_, err := jwtauth.LoadConfig(env(map[string]string{name: v}))
		require.ErrorIs(t, err, jwtauth.ErrConfig, name)
		assert.Contains(t, err.Error(), name)
	}
}
