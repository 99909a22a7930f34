package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserCookieSettings: the JWTAUTH_COOKIE_* and
// JWTAUTH_ALLOWED_ORIGINS variables reach the reference server's browser
// group.
func TestBrowserCookieSettings(t *testing.T) {
	t.Parallel()
	srv := startServer(t, map[string]string{
		"JWTAUTH_COOKIE_SAMESITE": "strict",
		"JWTAUTH_COOKIE_SECURE":   "false",
		"JWTAUTH_ALLOWED_ORIGINS": "https://app.example.com",
	})
	login := func(origin string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/auth/browser/login",
			strings.NewReader(`{"username":"alice","password":"alice-password"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		return res
	}
	res := login("https://app.example.com")
	require.Equal(t, http.StatusOK, res.StatusCode)
	cookies := res.Cookies()
	require.Len(t, cookies, 3)
	for _, c := range cookies {
		assert.Equal(t, http.SameSiteStrictMode, c.SameSite, c.Name)
		assert.False(t, c.Secure, c.Name)
		assert.True(t, c.HttpOnly, c.Name)
	}
	res = login("https://other.example.com")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "only the allowed origin is trusted")
	assert.Empty(t, res.Cookies())
}
