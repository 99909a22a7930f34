package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

func TestNewBrowserRefusesBadSettings(t *testing.T) {
	_, err := NewBrowser("pkg", BrowserConfig{AllowedOrigins: []string{"not an origin"}})
	require.ErrorIs(t, err, domain.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "pkg: Config.AllowedOrigins")
	_, err = NewBrowser("pkg", BrowserConfig{Cookies: CookieConfig{SameSite: http.SameSiteNoneMode}})
	require.ErrorIs(t, err, domain.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "CookieSameSite")
}

func TestCheckOrigin(t *testing.T) {
	b, err := NewBrowser("pkg", BrowserConfig{AllowedOrigins: []string{"https://app.example.com"}})
	require.NoError(t, err)
	req := func(method, site, origin, cookie string) *http.Request {
		r := httptest.NewRequest(method, "http://api.example.com/auth/browser/login", nil)
		if site != "" {
			r.Header.Set("Sec-Fetch-Site", site)
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		return r
	}
	for _, c := range []struct {
		name   string
		r      *http.Request
		always bool
		refuse bool
	}{
		{"cross-site POST of the browser group", req("POST", "cross-site", "https://evil.example", ""), true, true},
		{"same-site but cross-origin", req("POST", "same-site", "https://www.example.com", ""), true, true},
		{"Origin only, not the Host", req("POST", "", "https://evil.example", ""), true, true},
		{"allowed origin", req("POST", "cross-site", "https://app.example.com", ""), true, false},
		{"same-origin", req("POST", "same-origin", "http://api.example.com", ""), true, false},
		{"no browser headers (not a browser)", req("POST", "", "", ""), true, false},
		{"safe method", req("GET", "cross-site", "https://evil.example", ""), true, false},
		{"cross-site without cookie, outside the group", req("POST", "cross-site", "https://evil.example", "other=1"), false, false},
		{"cross-site with the access cookie", req("POST", "cross-site", "https://evil.example", "a=1; jwtauth_access=x"), false, true},
		{"cross-site with only the device cookie", req("DELETE", "cross-site", "https://evil.example", "jwtauth_device=x"), false, true},
		{"cookie-like value is not a cookie name", req("PUT", "cross-site", "https://evil.example", "a=jwtauth_access"), false, false},
	} {
		err := b.CheckOrigin(c.r, c.always)
		if c.refuse {
			assert.ErrorIs(t, err, ErrCrossOrigin, c.name)
			p := Classify(err)
			assert.Equal(t, Problem{Status: http.StatusForbidden, Code: CodeCrossOrigin, Description: "cross-origin requests are refused", Known: true}, p, c.name)
		} else {
			assert.NoError(t, err, c.name)
		}
	}
	// The zero Browser trusts no other origin.
	assert.True(t, errors.Is(Browser{}.CheckOrigin(req("POST", "cross-site", "https://app.example.com", ""), true), ErrCrossOrigin))
}

func TestCookieAttributes(t *testing.T) {
	c := CookieConfig{SameSite: http.SameSiteStrictMode, Insecure: true}.cookie(AccessCookie, "v", "/", 90*time.Second)
	assert.Equal(t, "jwtauth_access=v; Path=/; Max-Age=90; HttpOnly; SameSite=Strict", c.String())
	c = CookieConfig{}.cookie(RefreshCookie, "v", BrowserPath, 0)
	assert.Equal(t, "jwtauth_refresh=; Path=/auth/browser; Max-Age=0; HttpOnly; Secure; SameSite=Lax", c.String())
}

func TestAccessTokenSources(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	_, _, err := AccessToken(r)
	assert.ErrorIs(t, err, domain.ErrMissingToken)
	r.Header.Set("Cookie", "jwtauth_access=tok")
	tok, _, err := AccessToken(r)
	require.NoError(t, err)
	assert.Equal(t, "tok", tok)
	r.Header.Set("Cookie", "jwtauth_access=a; jwtauth_access=b")
	_, _, err = AccessToken(r)
	assert.ErrorIs(t, err, domain.ErrMalformed)
	r.Header.Set("Cookie", "jwtauth_access=tok")
	r.Header.Set("Authorization", "Basic eA==")
	_, _, err = AccessToken(r)
	assert.ErrorIs(t, err, domain.ErrMissingToken, "an Authorization header of another scheme is not a fallback to the cookie")
}

func TestDeviceIDFromCookie(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "jwtauth_device=0123abcd")
	assert.Equal(t, "0123abcd", ClientResolver{}.Resolve(r).DeviceID)
	r.Header.Set("X-Device-ID", "phone")
	assert.Equal(t, "phone", ClientResolver{}.Resolve(r).DeviceID, "the header wins")
	r.Header.Del("X-Device-ID")
	r.Header.Set("Cookie", "jwtauth_device=a; jwtauth_device=b")
	assert.Regexp(t, "^ua:", ClientResolver{}.Resolve(r).DeviceID, "two device cookies: neither")
}
