package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// The browser group's cookies and where it is mounted.
const (
	// AccessCookie holds the access token (Path=/, Max-Age = access TTL).
	AccessCookie = "jwtauth_access"
	// RefreshCookie holds the refresh token (Path=BrowserPath, Max-Age =
	// refresh TTL): browsers send it to the browser group only.
	RefreshCookie = "jwtauth_refresh" // #nosec G101 -- a cookie name, not a credential
	// DeviceCookie holds a random device id, used as the device id of a
	// request without a device header (Path=/, Max-Age = DeviceCookieMaxAge).
	DeviceCookie = "jwtauth_device"
	// BrowserPath is the path the browser group is mounted at, and the
	// refresh cookie's Path.
	BrowserPath = "/auth/browser"
	// DeviceCookieMaxAge is the device cookie's lifetime: 400 days, the
	// longest that browsers keep a cookie (RFC 6265bis).
	DeviceCookieMaxAge = 400 * 24 * time.Hour
	// cookiePrefix starts the name of every jwtauth cookie.
	cookiePrefix = "jwtauth_"
)

// CookieConfig holds the attributes of the browser group's cookies.
type CookieConfig struct {
	// SameSite is http.SameSiteLaxMode or http.SameSiteStrictMode; any
	// other value (the zero value included) is Lax.
	SameSite http.SameSite
	// Insecure drops the Secure attribute (for plain-HTTP deployments on
	// hosts other than localhost, which browsers treat as secure anyway).
	Insecure bool
}

// cookie returns a jwtauth cookie with the configured attributes and
// maxAge rounded to seconds, as expires_in is. A maxAge under half a
// second deletes it (Max-Age=0).
func (c CookieConfig) cookie(name, value, path string, maxAge time.Duration) *http.Cookie {
	ss := c.SameSite
	if ss != http.SameSiteStrictMode {
		ss = http.SameSiteLaxMode
	}
	// #nosec G124 -- Secure unless the operator turned it off (JWTAUTH_COOKIE_SECURE=false)
	ck := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: !c.Insecure, SameSite: ss}
	if secs := seconds(maxAge); secs > 0 {
		ck.MaxAge = int(secs)
	} else {
		ck.MaxAge = -1 // encoded as Max-Age=0: delete now
		ck.Value = ""
	}
	return ck
}

// setTokens sets the access cookie, and the refresh cookie when pair
// carries a refresh token.
func (c CookieConfig) setTokens(w http.ResponseWriter, pair app.Pair) {
	http.SetCookie(w, c.cookie(AccessCookie, pair.AccessToken, "/", pair.AccessExpiresAt.Sub(pair.IssuedAt)))
	if pair.RefreshToken != "" {
		http.SetCookie(w, c.cookie(RefreshCookie, pair.RefreshToken, BrowserPath, pair.RefreshExpiresAt.Sub(pair.IssuedAt)))
	}
}

// clearTokens deletes the access and refresh cookies (not the device
// cookie: the browser stays the same device).
func (c CookieConfig) clearTokens(w http.ResponseWriter) {
	http.SetCookie(w, c.cookie(AccessCookie, "", "/", 0))
	http.SetCookie(w, c.cookie(RefreshCookie, "", BrowserPath, 0))
}

// setDevice sets the device cookie to id for DeviceCookieMaxAge.
func (c CookieConfig) setDevice(w http.ResponseWriter, id string) {
	http.SetCookie(w, c.cookie(DeviceCookie, id, "/", DeviceCookieMaxAge))
}

// newDeviceID returns a random device id: 32 hex digits (128 bits).
func newDeviceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// AccessToken returns the access token of a request and whether it came
// with the DPoP scheme: the token of its Authorization header (see
// AuthorizationToken) or, when it has no Authorization header, the value
// of its AccessCookie. Neither is domain.ErrMissingToken; a cookie that
// appears several times, or whose value is not a possible token, is an
// error wrapping domain.ErrMalformed.
func AccessToken(r *http.Request) (tok string, isDPoP bool, err error) {
	if len(r.Header["Authorization"]) > 0 {
		return AuthorizationToken(r)
	}
	tok, err = tokenCookie(r, AccessCookie)
	return tok, false, err
}

// tokenCookie returns the value of the token cookie name: domain.ErrMissingToken
// when absent, domain.ErrMalformed when repeated or not a possible token.
func tokenCookie(r *http.Request, name string) (string, error) {
	cks := r.CookiesNamed(name)
	if len(cks) == 0 {
		return "", fmt.Errorf("%w: no %s cookie", domain.ErrMissingToken, name)
	}
	if len(cks) > 1 {
		return "", fmt.Errorf("%w: several %s cookies", domain.ErrMalformed, name)
	}
	v := cks[0].Value
	if err := domain.Token(v).Check(); err != nil {
		return "", fmt.Errorf("%s cookie: %w", name, err)
	}
	return v, nil
}

// deviceCookie returns the device cookie's value when the request carries
// exactly one that is a usable device id (1 to MaxDeviceIDLen bytes of
// printable ASCII), else "".
func deviceCookie(r *http.Request) string {
	cks := r.CookiesNamed(DeviceCookie)
	if len(cks) != 1 {
		return ""
	}
	if v := cks[0].Value; v != "" && len(v) <= MaxDeviceIDLen && printableASCII(v) {
		return v
	}
	return ""
}

// hasJWTAuthCookie reports whether the request carries any jwtauth cookie.
func hasJWTAuthCookie(r *http.Request) bool {
	for _, line := range r.Header.Values("Cookie") {
		if strings.Contains(line, cookiePrefix) {
			for _, ck := range r.Cookies() {
				if strings.HasPrefix(ck.Name, cookiePrefix) {
					return true
				}
			}
			return false
		}
	}
	return false
}
