package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bounds of the browser tests: every step runs under stepTimeout, the
// whole test under browserTimeout.
const (
	stepTimeout    = 30 * time.Second
	browserTimeout = 3 * time.Minute
)

// chromiumPath returns the Chromium to drive: $JWTAUTH_CHROMIUM, else the
// first of chromium, chromium-browser, google-chrome on PATH. Without one
// the test is skipped, except with CI=true, where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("JWTAUTH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (apt-get install chromium, or set JWTAUTH_CHROMIUM); CI=true requires the browser tests")
	}
	t.Skip("no Chromium found: browser tests skipped (apt-get install chromium)")
	return ""
}

// newChromium starts a headless Chromium with a fresh profile and returns
// the context of its first tab. The networking flags keep it from calling
// home, which hangs on a closed network.
func newChromium(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 760),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	start(t, tab)
	return tab
}

// start opens the tab of a new chromedp context. Its first action must
// run on the context itself (the end of the context that first ran
// closes the tab); ctx's deadline (browserTimeout) bounds it.
func start(t *testing.T, tab context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate("about:blank")))
}

// step runs actions in tab under stepTimeout and fails the test on error.
func step(t *testing.T, tab context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// value runs one action in tab under stepTimeout and returns its value.
func value[T any](t *testing.T, tab context.Context, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	require.NoError(t, err)
	return v
}

// seen is one request the server received, as the recorder saw it.
type seen struct {
	Method, Path, Site string
	Cookies            []string // names
	Status             int
	Body               string // of /auth/ answers
	SetCookie          []string
}

// recorder wraps the server and keeps every request and answer.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []seen
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := seen{Method: r.Method, Path: r.URL.Path, Site: r.Header.Get("Sec-Fetch-Site")}
	for _, c := range r.Cookies() {
		s.Cookies = append(s.Cookies, c.Name)
	}
	rw := httptest.NewRecorder()
	rec.next.ServeHTTP(rw, r)
	s.Status = rw.Code
	if strings.HasPrefix(r.URL.Path, "/auth/") {
		s.Body = rw.Body.String()
	}
	s.SetCookie = rw.Header().Values("Set-Cookie")
	// Recorded before the browser gets the answer, so whatever the page
	// shows next is already in the record.
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, s)
	rec.mu.Unlock()
	for k, v := range rw.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rw.Code)
	_, _ = w.Write(rw.Body.Bytes())
}

// all returns a copy of what was seen so far.
func (rec *recorder) all() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

// waitFor returns the first request after the first n seen for which ok
// holds, waiting at most stepTimeout for it.
func (rec *recorder) waitFor(t *testing.T, n int, ok func(seen) bool) seen {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		reqs := rec.all()
		for _, s := range reqs[min(n, len(reqs)):] {
			if ok(s) {
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no such request within %s", stepTimeout)
	return seen{}
}

// screenshot writes the tab's viewport as a PNG into $JWTAUTH_SCREENSHOTS
// (when set; the README's picture comes from there) or the test's temp dir.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png := value(t, tab, chromedp.FullScreenshot(100))
	dir := os.Getenv("JWTAUTH_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o600))
}

// signIn fills the login form of the page in tab and waits for the
// devices list.
func signIn(t *testing.T, tab context.Context, base, user, password string) {
	t.Helper()
	step(t, tab,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("form#login")),
		chromedp.SendKeys(chromedp.CSS(`form#login input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`form#login input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form#login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sessions li[data-current="true"]`)),
	)
}

// sessionsShown returns the data-session-id of each li of #sessions and
// the current one's.
func sessionsShown(t *testing.T, tab context.Context) (ids []string, current string) {
	t.Helper()
	type item struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	}
	items := value(t, tab, chromedp.Evaluate[[]item](`[...document.querySelectorAll("#sessions li")].map(li => ({id: li.dataset.sessionId, current: li.dataset.current === "true"}))`))
	for _, it := range items {
		ids = append(ids, it.ID)
		if it.Current {
			require.Empty(t, current, "two sessions marked current")
			current = it.ID
		}
	}
	return ids, current
}

// waitSessions waits until the page in tab lists n sessions.
func waitSessions(t *testing.T, tab context.Context, n int) {
	t.Helper()
	step(t, tab, chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll("#sessions li").length === %d`, n),
		chromedp.WithPollingMutation()))
}

// reload reloads the page and waits until it shows either view.
func reload(t *testing.T, tab context.Context, base string) {
	t.Helper()
	step(t, tab, chromedp.Navigate(base+"/"),
		chromedp.Poll[chromedp.Void](`!document.querySelector("#signed-in").hidden || !document.querySelector("#signed-out").hidden`,
			chromedp.WithPollingMutation()))
}

func signedOutShown(t *testing.T, tab context.Context) bool {
	t.Helper()
	return value(t, tab, chromedp.Evaluate[bool](`!document.querySelector("form#login").closest("section").hidden && document.querySelector("#signed-in").hidden`))
}

// TestAccountPageInChromium drives the account page of a real reference
// server in headless Chromium: two browser contexts are two devices.
func TestAccountPageInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	tab1 := newChromium(t, ctx)

	cfg := testConfig(t, testEnv(t, map[string]string{"JWTAUTH_DEMO_USERS": "alice:alice-password"}))
	srv, err := newServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close(10 * time.Second) })
	rec := &recorder{next: srv}
	ts := httptest.NewServer(rec) // 127.0.0.1
	t.Cleanup(ts.Close)
	base := ts.URL
	t.Cleanup(func() {
		if t.Failed() {
			reqs := rec.all()
			for _, s := range reqs[max(0, len(reqs)-15):] {
				t.Logf("seen: %s %s site=%s cookies=%v -> %d %s", s.Method, s.Path, s.Site, s.Cookies, s.Status, s.Body)
			}
		}
	})

	// Signed out: the form.
	step(t, tab1, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("form#login")))
	assert.True(t, value(t, tab1, chromedp.Evaluate[bool](`document.querySelector("#error").hidden`)), "a first visit shows no error")
	screenshot(t, tab1, "account-signed-out.png")

	// A wrong password shows the error and stays signed out.
	step(t, tab1,
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "wrong"),
		chromedp.Click(chromedp.CSS(`form#login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	assert.Contains(t, value(t, tab1, chromedp.Text(chromedp.CSS("#error"))), "invalid_credentials")

	// Sign in through the form: the devices list shows this device.
	signIn(t, tab1, base, "alice", "alice-password")
	assert.Equal(t, "alice", value(t, tab1, chromedp.Text(chromedp.CSS("#me"))))
	ids, cur1 := sessionsShown(t, tab1)
	require.Len(t, ids, 1)
	require.NotEmpty(t, cur1)
	assert.Empty(t, value(t, tab1, chromedp.Text(chromedp.CSS("#error"))), "a sign-in clears the last error")

	// No token is visible to scripts.
	assert.Empty(t, value(t, tab1, chromedp.Evaluate[string](`document.cookie`)), "every jwtauth cookie is HttpOnly")

	// The access cookie expires (deleted here as the browser does at its
	// Max-Age): the page's next call is 401, it refreshes once through the
	// refresh cookie and retries once, and stays signed in.
	n0 := len(rec.all())
	_, err = chromedp.Call(tab1, network.DeleteCookies, network.DeleteCookiesParams{Name: "jwtauth_access", URL: base + "/"})
	require.NoError(t, err)
	reload(t, tab1, base)
	assert.False(t, signedOutShown(t, tab1), "an expired access cookie is refreshed, not a sign-out")
	var calls []string
	for _, s := range rec.all()[n0:] {
		if strings.HasPrefix(s.Path, "/auth/") {
			calls = append(calls, fmt.Sprintf("%s %s %d", s.Method, s.Path, s.Status))
		}
	}
	assert.Equal(t, []string{"GET /auth/me 401", "POST /auth/browser/refresh 200", "GET /auth/me 200", "GET /auth/sessions 200"}, calls)

	// A second browser context is a second device: it signs in and
	// appears on both pages.
	tab2, cancel2 := chromedp.NewContext(tab1, chromedp.WithNewBrowserContext())
	defer cancel2()
	start(t, tab2)
	signIn(t, tab2, base, "alice", "alice-password")
	ids2, cur2 := sessionsShown(t, tab2)
	require.Len(t, ids2, 2)
	assert.NotEqual(t, cur1, cur2)
	reload(t, tab1, base)
	ids, cur := sessionsShown(t, tab1)
	assert.ElementsMatch(t, ids2, ids)
	assert.Equal(t, cur1, cur, "the first page still marks its own session")
	screenshot(t, tab1, "account-devices.png")

	// At phone width the page stays usable: nothing wider than the screen.
	step(t, tab1, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
	assert.True(t, value(t, tab1, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= 390`)), "horizontal overflow at 390 px")
	screenshot(t, tab1, "account-phone.png")
	step(t, tab1, chromedp.ResetViewport())

	// "Log out others" from the first ends the second: its next action
	// shows the login form.
	step(t, tab1, chromedp.Click(chromedp.CSS("button#logout-others")))
	waitSessions(t, tab1, 1)
	step(t, tab2, chromedp.Click(chromedp.CSS("button#logout-others")), chromedp.WaitVisible(chromedp.CSS("form#login")))
	assert.True(t, signedOutShown(t, tab2))
	assert.Contains(t, value(t, tab2, chromedp.Text(chromedp.CSS("#error"))), "token_revoked", "the page says why")

	// Revoke one: the second device signs in again; the first revokes it.
	signIn(t, tab2, base, "alice", "alice-password")
	_, cur2 = sessionsShown(t, tab2)
	reload(t, tab1, base)
	waitSessions(t, tab1, 2)
	step(t, tab1, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#sessions li[data-session-id=%q] button.revoke`, cur2))))
	waitSessions(t, tab1, 1)
	reload(t, tab2, base)
	assert.True(t, signedOutShown(t, tab2), "the revoked device is signed out")

	// A page of another origin (same host, another port: same site, so
	// SameSite=Lax cookies go along) can neither log in, refresh nor log
	// out cross-site.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<!doctype html><title>elsewhere</title><p>another origin</p>`))
	}))
	t.Cleanup(evil.Close)
	tab3, cancel3 := chromedp.NewContext(tab1) // a tab of the first device: its cookies
	defer cancel3()
	start(t, tab3)
	step(t, tab3, chromedp.Navigate(evil.URL))
	before := len(rec.all())
	for _, path := range []string{"/auth/browser/login", "/auth/browser/refresh", "/auth/browser/logout", "/auth/browser/logout/others"} {
		n := len(rec.all())
		// A simple request (no preflight): the body goes as text/plain,
		// cookies included; the answer is opaque to the page. The login
		// carries the right password: login CSRF is refused too.
		js := fmt.Sprintf(`fetch(%q, {method: "POST", mode: "no-cors", credentials: "include", headers: {"Content-Type": "text/plain"},
			body: %q}).then(() => true, () => true)`, base+path, `{"username":"alice","password":"alice-password"}`)
		value(t, tab3, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise))
		s := rec.waitFor(t, n, func(s seen) bool { return s.Path == path })
		assert.Equal(t, http.StatusForbidden, s.Status, "%s: %s", path, s.Body)
		assert.Contains(t, s.Body, `"error":"cross_origin"`, path)
		assert.Empty(t, s.SetCookie, "%s: no cookie set or deleted", path)
		assert.Equal(t, "same-site", s.Site, path)
	}
	// A cross-site form post, a top-level navigation, to logout/all.
	n := len(rec.all())
	step(t, tab3, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const f = document.createElement("form"); f.method = "POST";
		f.action = %q; document.body.append(f); f.submit(); })()`, base+"/auth/browser/logout/all")))
	s := rec.waitFor(t, n, func(s seen) bool { return s.Path == "/auth/browser/logout/all" })
	assert.Equal(t, http.StatusForbidden, s.Status, s.Body)
	assert.Contains(t, s.Body, `"error":"cross_origin"`)
	assert.Contains(t, s.Cookies, "jwtauth_access", "the cookie went along: only the origin check stopped it")
	// Nothing changed: the first device is signed in with one session.
	for _, s := range rec.all()[before:] {
		if strings.HasPrefix(s.Path, "/auth/") {
			assert.Equal(t, http.StatusForbidden, s.Status, "%s %s", s.Method, s.Path)
		}
	}
	reload(t, tab1, base)
	ids, cur = sessionsShown(t, tab1)
	assert.Equal(t, []string{cur1}, ids)
	assert.Equal(t, cur1, cur)

	// Log out: the form again, also after a reload (the cookies are gone).
	step(t, tab1, chromedp.Click(chromedp.CSS("button#logout")), chromedp.WaitVisible(chromedp.CSS("form#login")))
	loggedOut := len(rec.all())
	reload(t, tab1, base)
	assert.True(t, signedOutShown(t, tab1))
	after := rec.all()[loggedOut:]
	require.NotEmpty(t, after, "the reload made requests")
	for _, s := range after {
		assert.NotContains(t, s.Cookies, "jwtauth_access", "%s %s after the logout", s.Method, s.Path)
		assert.NotContains(t, s.Cookies, "jwtauth_refresh", "%s %s after the logout", s.Method, s.Path)
	}

	// Over the whole run the refresh cookie went to /auth/browser only,
	// while the access cookie went elsewhere too.
	accessElsewhere := false
	for _, s := range rec.all() {
		if !strings.HasPrefix(s.Path, "/auth/browser/") {
			assert.NotContains(t, s.Cookies, "jwtauth_refresh", "%s %s carried the refresh cookie", s.Method, s.Path)
			if slices.Contains(s.Cookies, "jwtauth_access") {
				accessElsewhere = true
			}
		}
	}
	assert.True(t, accessElsewhere, "the access cookie should have gone to /auth/me and /auth/sessions")
	// And no answer of the browser group carried a token in its body.
	for _, s := range rec.all() {
		if strings.HasPrefix(s.Path, "/auth/browser/") && s.Body != "" {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(s.Body), &m), s.Body)
			assert.NotContains(t, m, "access_token", s.Path)
			assert.NotContains(t, m, "refresh_token", s.Path)
		}
	}
}
