package webtest

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/app"
)

// Paths of the browser group (mounted by the drivers beside the Bearer
// group, with the same login handler).
const (
	BrowserLoginPath   = web.BrowserPath + "/login"
	BrowserRefreshPath = web.BrowserPath + "/refresh"
	BrowserLogoutPath  = web.BrowserPath + "/logout"
)

// Browser is a browser as the server sees it: a client and the cookies it
// holds, kept the way a browser keeps them (set, replaced, deleted by
// Max-Age=0). Paths are not applied: each request sends what its test
// asks for.
type Browser struct {
	Client
	Jar map[string]string // name → value
	// Site is sent as Sec-Fetch-Site when not empty; Origin as Origin.
	Site, Origin string
}

// NewBrowser returns a browser with no cookies, from 127.0.0.1, without a
// device header.
func NewBrowser() *Browser { return &Browser{Jar: map[string]string{}} }

// Do sends method path with the named cookies (all held when names is
// empty) and keeps the cookies the response sets.
func (b *Browser) Do(t *testing.T, h *H, method, path string, body any, names ...string) Resp {
	t.Helper()
	if len(names) == 0 {
		for n := range b.Jar {
			names = append(names, n)
		}
	}
	var pairs []string
	for _, n := range names {
		if v, ok := b.Jar[n]; ok {
			pairs = append(pairs, n+"="+v)
		}
	}
	hdr := http.Header{}
	if len(pairs) > 0 {
		hdr.Set("Cookie", strings.Join(pairs, "; "))
	}
	if b.Site != "" {
		hdr.Set("Sec-Fetch-Site", b.Site)
	}
	if b.Origin != "" {
		hdr.Set("Origin", b.Origin)
	}
	res := h.Do(t, Req{Client: b.Client, Method: method, Path: path, JSON: body, Header: hdr})
	for _, c := range SetCookies(res) {
		if c.MaxAge < 0 {
			delete(b.Jar, c.Name)
		} else {
			b.Jar[c.Name] = c.Value
		}
	}
	return res
}

// Login logs user in through the browser group and requires a 200.
func (b *Browser) Login(t *testing.T, h *H, user string) map[string]any {
	t.Helper()
	res := b.Do(t, h, http.MethodPost, BrowserLoginPath, LoginRequest{Username: user, Password: "pw-" + user})
	require.Equal(t, http.StatusOK, res.Status, "browser login: %s", res.Body)
	return res.Object(t)
}

// SetCookies returns the cookies res sets, by name.
func SetCookies(res Resp) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		out[c.Name] = c
	}
	return out
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// browserCases are the browser group's cases.
func browserCases() []Case {
	return []Case{
		{Name: "browser login sets the three cookies and no token in the body", Run: func(t *testing.T, h *H) {
			b := NewBrowser()
			res := b.Do(t, h, http.MethodPost, BrowserLoginPath, LoginRequest{Username: "alice", Password: "pw-alice"})
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			body := res.Object(t)
			assert.ElementsMatch(t, []string{"token_type", "expires_in", "refresh_expires_in", "session_id"}, keys(body))
			assert.Equal(t, "cookie", body["token_type"])
			assert.Equal(t, float64(600), body["expires_in"])
			assert.Equal(t, float64(720*3600), body["refresh_expires_in"])

			set := SetCookies(res)
			require.Len(t, set, 3, "%v", res.Header.Values("Set-Cookie"))
			want := map[string]struct {
				path   string
				maxAge int
			}{
				web.AccessCookie:  {"/", 600},
				web.RefreshCookie: {"/auth/browser", 720 * 3600},
				web.DeviceCookie:  {"/", 400 * 24 * 3600},
			}
			for name, w := range want {
				c := set[name]
				require.NotNil(t, c, name)
				assert.Equal(t, w.path, c.Path, name)
				assert.Equal(t, w.maxAge, c.MaxAge, name)
				assert.True(t, c.HttpOnly, name)
				assert.True(t, c.Secure, name)
				assert.Equal(t, http.SameSiteLaxMode, c.SameSite, name)
				assert.NotContains(t, string(res.Body), c.Value, "%s value in the body", name)
			}
			assert.Regexp(t, hex32, set[web.DeviceCookie].Value)
			assert.Empty(t, set[web.DeviceCookie].Domain)
		}},
		{Name: "the access cookie authenticates, Authorization wins over it", Run: func(t *testing.T, h *H) {
			b := NewBrowser()
			sid := b.Login(t, h, "alice")["session_id"]
			res := b.Do(t, h, http.MethodGet, MePath, nil, web.AccessCookie, web.DeviceCookie)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			var me Me
			require.NoError(t, json.Unmarshal(res.Body, &me))
			assert.Equal(t, sid, me.SessionID)

			// A header, even a bad one, is the credential: the cookie is
			// not a fallback for a rejected bearer token.
			cookie := "jwtauth_access=" + b.Jar[web.AccessCookie] + "; jwtauth_device=" + b.Jar[web.DeviceCookie]
			res = h.Do(t, Req{Method: http.MethodGet, Path: MePath, Token: "garbage", Header: http.Header{"Cookie": {cookie}}})
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
			bearer := h.LoginAs(t, "bob", local)
			res = h.Do(t, Req{Method: http.MethodGet, Path: MePath, Token: bearer.AccessToken, Header: http.Header{"Cookie": {"jwtauth_access=garbage"}}})
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

			// Without its device cookie the access cookie is another
			// device's token.
			res = b.Do(t, h, http.MethodGet, MePath, nil, web.AccessCookie)
			WantError(t, res, http.StatusUnauthorized, "client_mismatch")
			// No cookie at all is a missing credential.
			res = b.Do(t, h, http.MethodGet, MePath, nil, web.DeviceCookie)
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
		}},
		{Name: "the device cookie makes two browsers of one User-Agent two devices", Run: func(t *testing.T, h *H) {
			laptop1, laptop2 := NewBrowser(), NewBrowser()
			s1 := laptop1.Login(t, h, "alice")["session_id"]
			s2 := laptop2.Login(t, h, "alice")["session_id"]
			assert.NotEqual(t, laptop1.Jar[web.DeviceCookie], laptop2.Jar[web.DeviceCookie])
			// Logging in again on laptop 1 replaces its own session only
			// and keeps its device id.
			dev := laptop1.Jar[web.DeviceCookie]
			s1b := laptop1.Login(t, h, "alice")["session_id"]
			assert.Equal(t, dev, laptop1.Jar[web.DeviceCookie])
			res := laptop2.Do(t, h, http.MethodGet, MePath, nil)
			require.Equal(t, http.StatusOK, res.Status, "laptop 2 was logged out by laptop 1: %s", res.Body)
			bearer := h.LoginAs(t, "alice", phoneA)
			ids := map[any]bool{}
			for _, s := range listSessions(t, h, bearer.AccessToken, phoneA) {
				ids[s["id"]] = true
			}
			assert.Equal(t, map[any]bool{s1b: true, s2: true, bearer.SessionID: true}, ids)
			assert.NotEqual(t, s1, s1b)

			// A device header wins: no device cookie is set.
			phone := NewBrowser()
			phone.Device = "phone-x"
			phone.Login(t, h, "alice")
			assert.NotContains(t, phone.Jar, web.DeviceCookie)
			res = phone.Do(t, h, http.MethodGet, MePath, nil)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		}},
		{Name: "browser refresh renews the access cookie from the refresh cookie", Run: func(t *testing.T, h *H) {
			b := NewBrowser()
			b.Login(t, h, "alice")
			old := b.Jar[web.AccessCookie]
			res := b.Do(t, h, http.MethodPost, BrowserRefreshPath, nil)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			assert.Equal(t, map[string]any{"expires_in": float64(600)}, res.Object(t))
			set := SetCookies(res)
			require.Contains(t, set, web.AccessCookie)
			assert.NotContains(t, set, web.RefreshCookie, "no rotation: the refresh cookie stays")
			assert.NotEqual(t, old, b.Jar[web.AccessCookie])
			assert.Equal(t, http.StatusOK, b.Do(t, h, http.MethodGet, MePath, nil).Status)

			// Without the refresh cookie there is nothing to refresh with.
			res = b.Do(t, h, http.MethodPost, BrowserRefreshPath, nil, web.AccessCookie, web.DeviceCookie)
			WantError(t, res, http.StatusUnauthorized, "invalid_token")
			// An access token in the refresh cookie is the wrong type.
			res = h.Do(t, Req{Method: http.MethodPost, Path: BrowserRefreshPath, Header: http.Header{"Cookie": {
				"jwtauth_refresh=" + b.Jar[web.AccessCookie] + "; jwtauth_device=" + b.Jar[web.DeviceCookie]}}})
			WantError(t, res, http.StatusUnauthorized, "wrong_token_type")
		}},
		{
			Name:   "browser refresh with rotation renews both cookies; reuse clears them",
			Config: func(c *app.Config) { c.RotateRefresh = true; c.ReuseGrace = -1 },
			Run: func(t *testing.T, h *H) {
				b := NewBrowser()
				b.Login(t, h, "alice")
				first := b.Jar[web.RefreshCookie]
				res := b.Do(t, h, http.MethodPost, BrowserRefreshPath, nil)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
				set := SetCookies(res)
				require.Contains(t, set, web.RefreshCookie)
				assert.Equal(t, "/auth/browser", set[web.RefreshCookie].Path)
				assert.NotEqual(t, first, b.Jar[web.RefreshCookie])
				assert.Equal(t, map[string]any{"expires_in": float64(600)}, res.Object(t), "no token in the body")

				// The stolen first refresh token, replayed: reuse.
				thief := NewBrowser()
				thief.Jar[web.RefreshCookie] = first
				thief.Jar[web.DeviceCookie] = b.Jar[web.DeviceCookie]
				res = thief.Do(t, h, http.MethodPost, BrowserRefreshPath, nil)
				WantError(t, res, http.StatusUnauthorized, "refresh_reused")
				set = SetCookies(res)
				require.Contains(t, set, web.AccessCookie)
				require.Contains(t, set, web.RefreshCookie)
				assert.Equal(t, -1, set[web.AccessCookie].MaxAge, "a dead refresh token's cookies are deleted")
				assert.Equal(t, -1, set[web.RefreshCookie].MaxAge)
				WantError(t, b.Do(t, h, http.MethodGet, MePath, nil), http.StatusUnauthorized, "token_revoked")
			},
		},
		{
			Name:   "tabs refreshing at once with rotation all succeed within the grace",
			Config: func(c *app.Config) { c.RotateRefresh = true },
			Run: func(t *testing.T, h *H) {
				b := NewBrowser()
				b.Login(t, h, "alice")
				cookie := "jwtauth_refresh=" + b.Jar[web.RefreshCookie] + "; jwtauth_device=" + b.Jar[web.DeviceCookie]
				const tabs = 16
				statuses := make(chan int, tabs)
				var wg sync.WaitGroup
				for range tabs {
					wg.Go(func() {
						res := h.Do(t, Req{Method: http.MethodPost, Path: BrowserRefreshPath, Header: http.Header{"Cookie": {cookie}}})
						statuses <- res.Status
					})
				}
				wg.Wait()
				close(statuses)
				for st := range statuses {
					assert.Equal(t, http.StatusOK, st)
				}
				assert.Equal(t, http.StatusOK, b.Do(t, h, http.MethodGet, MePath, nil).Status, "the session lives on")
			},
		},
		{Name: "browser logouts end sessions; logout and logout/all delete the token cookies", Run: func(t *testing.T, h *H) {
			a, c := NewBrowser(), NewBrowser()
			a.Login(t, h, "alice")
			c.Login(t, h, "alice")

			res := a.Do(t, h, http.MethodPost, BrowserLogoutPath+"/others", nil)
			require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			assert.Empty(t, res.Header.Values("Set-Cookie"), "logout/others keeps this browser's cookies")
			WantError(t, c.Do(t, h, http.MethodGet, MePath, nil), http.StatusUnauthorized, "token_revoked")
			require.Equal(t, http.StatusOK, a.Do(t, h, http.MethodGet, MePath, nil).Status)

			access := a.Jar[web.AccessCookie]
			res = a.Do(t, h, http.MethodPost, BrowserLogoutPath, nil)
			require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			assertCleared(t, res)
			assert.NotContains(t, a.Jar, web.AccessCookie)
			assert.Contains(t, a.Jar, web.DeviceCookie, "the device cookie stays")
			res = h.Do(t, Req{Method: http.MethodGet, Path: MePath, Header: http.Header{"Cookie": {
				"jwtauth_access=" + access + "; jwtauth_device=" + a.Jar[web.DeviceCookie]}}})
			WantError(t, res, http.StatusUnauthorized, "token_revoked")

			a.Login(t, h, "alice")
			c.Login(t, h, "alice")
			res = a.Do(t, h, http.MethodPost, BrowserLogoutPath+"/all", nil)
			require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			assertCleared(t, res)
			WantError(t, c.Do(t, h, http.MethodGet, MePath, nil), http.StatusUnauthorized, "token_revoked")
			// Logged out: the logout routes need the access cookie.
			WantError(t, a.Do(t, h, http.MethodPost, BrowserLogoutPath, nil), http.StatusUnauthorized, "invalid_token")
		}},
		{Name: "cross-origin browser requests are 403 cross_origin and change nothing", Run: func(t *testing.T, h *H) {
			victim := NewBrowser()
			victim.Login(t, h, "alice")
			bearer := h.LoginAs(t, "alice", phoneA)
			before := len(listSessions(t, h, bearer.AccessToken, phoneA))
			kept := maps.Clone(victim.Jar)

			for _, forged := range []struct{ site, origin string }{
				{"cross-site", "https://evil.example"},
				{"same-site", "http://127.0.0.1:1"}, // another port of the same host
				{"", "https://evil.example"},        // no Sec-Fetch-Site: Origin against Host
			} {
				victim.Site, victim.Origin = forged.site, forged.origin
				for _, path := range []string{BrowserLoginPath, BrowserRefreshPath, BrowserLogoutPath, BrowserLogoutPath + "/others", BrowserLogoutPath + "/all",
					"/auth/logout", "/auth/logout/all", "/auth/refresh"} {
					res := victim.Do(t, h, http.MethodPost, path, LoginRequest{Username: "mallory", Password: "pw-mallory"})
					WantError(t, res, http.StatusForbidden, "cross_origin")
					assert.Empty(t, res.Header.Values("Set-Cookie"), "%s %v", path, forged)
				}
				// Even without any cookie the browser group refuses.
				anon := &Browser{Jar: map[string]string{}, Site: forged.site, Origin: forged.origin}
				WantError(t, anon.Do(t, h, http.MethodPost, BrowserLoginPath, LoginRequest{Username: "alice", Password: "pw-alice"}), http.StatusForbidden, "cross_origin")
			}
			assert.Equal(t, kept, victim.Jar)
			victim.Site, victim.Origin = "", ""
			require.Equal(t, http.StatusOK, victim.Do(t, h, http.MethodGet, MePath, nil).Status, "the victim is still signed in")
			assert.Len(t, listSessions(t, h, bearer.AccessToken, phoneA), before, "no session added or ended")

			// Safe methods pass, and so do same-origin requests and
			// cookie-less Bearer requests from anywhere.
			victim.Site = "cross-site"
			assert.Equal(t, http.StatusOK, victim.Do(t, h, http.MethodGet, MePath, nil).Status)
			victim.Site = "same-origin"
			assert.Equal(t, http.StatusOK, victim.Do(t, h, http.MethodPost, BrowserRefreshPath, nil).Status)
			res := h.Do(t, Req{Client: phoneA, Method: http.MethodPost, Path: "/auth/logout/others", Token: bearer.AccessToken,
				Header: http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}})
			assert.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		}},
	}
}

// assertCleared asserts res deletes the access and refresh cookies at
// their paths, and leaves the device cookie alone.
func assertCleared(t *testing.T, res Resp) {
	t.Helper()
	set := SetCookies(res)
	for name, path := range map[string]string{web.AccessCookie: "/", web.RefreshCookie: "/auth/browser"} {
		require.Contains(t, set, name)
		assert.Equal(t, -1, set[name].MaxAge, name)
		assert.Empty(t, set[name].Value, name)
		assert.Equal(t, path, set[name].Path, name)
	}
	assert.NotContains(t, set, web.DeviceCookie)
}
