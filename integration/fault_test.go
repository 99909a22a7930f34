package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// Fault test timings: load before the cut, length of the cut, load at
// least this long after it, and how long recovery may take at most.
const (
	faultWorkers    = 4
	faultWarmup     = 1500 * time.Millisecond
	faultOutage     = 2 * time.Second
	faultAfter      = 1500 * time.Millisecond
	faultRecoverMax = 15 * time.Second
	faultPause      = 2 * time.Millisecond  // between a worker's requests
	faultBackoff    = 20 * time.Millisecond // after a 503
)

// Phases of a fault run.
const (
	phaseBefore int32 = iota
	phaseOutage
	phaseAfter
)

// Kinds of requests of a fault run.
const (
	kindLogin          = "login"
	kindMe             = "me"
	kindRefresh        = "refresh"
	kindLogout         = "logout"
	kindLogoutAll      = "logout/all"
	kindRevokedMe      = "revoked me"      // a revoked access token
	kindRevokedRefresh = "revoked refresh" // a revoked refresh token
	kindRevokedVerify  = "revoked verify"  // a revoked token on /auth/verify
	kindHealthz        = "healthz"
)

var faultKinds = []string{kindLogin, kindMe, kindRefresh, kindLogout, kindLogoutAll, kindRevokedMe, kindRevokedRefresh, kindRevokedVerify, kindHealthz}

// faultRec is one request of a fault run and its answer.
type faultRec struct {
	kind       string
	worker     int
	status     int // 0: transport error (err)
	code       string
	retryAfter string
	ctype      string
	err        string
	contract   string // how the answer breaks docs/openapi.yaml, if it does
	from, to   int32  // phase when sent and when answered
	start, end time.Time
}

// inOutage reports whether the request was sent after the cut and
// answered before the restore.
func (r faultRec) inOutage() bool { return r.from == phaseOutage && r.to == phaseOutage }

// faultRun drives load against one server while its database is cut.
type faultRun struct {
	s     *instance
	phase atomic.Int32

	mu   sync.Mutex
	recs []faultRec
}

// call sends one request and records it. It never fails the test: it runs
// on the workers' goroutines.
func (fr *faultRun) call(hc *http.Client, worker int, kind, method, path, device, token string, body any) (faultRec, map[string]any) {
	rec := faultRec{kind: kind, worker: worker, from: fr.phase.Load(), start: time.Now()}
	defer func() {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		fr.recs = append(fr.recs, rec)
	}()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, fr.s.URL+path, rd)
	if err != nil {
		rec.err = err.Error()
		return rec, nil
	}
	req.Header.Set("User-Agent", "fault/1")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if device != "" {
		req.Header.Set("X-Device-ID", device)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	rec.end, rec.to = time.Now(), fr.phase.Load()
	if err != nil {
		rec.err = err.Error()
		return rec, nil
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	rec.end, rec.to = time.Now(), fr.phase.Load()
	if err != nil {
		rec.err = err.Error()
		return rec, nil
	}
	rec.status = res.StatusCode
	rec.retryAfter = res.Header.Get("Retry-After")
	rec.ctype = res.Header.Get("Content-Type")
	if c, err := contract(); err != nil {
		rec.contract = err.Error()
	} else if err := c.validate(method, path, resp{Status: res.StatusCode, Header: res.Header, Body: data}); err != nil {
		rec.contract = err.Error()
	}
	var m map[string]any
	if json.Unmarshal(data, &m) == nil {
		rec.code, _ = m["error"].(string)
		for _, k := range []string{"access_token", "refresh_token"} {
			if tok, ok := m[k].(string); ok {
				fr.s.remember(tok)
			}
		}
	}
	return rec, m
}

// faultWorker is one client looping on its own user: /auth/me, refresh,
// logout or logout/all, then a new login; and probes of its revoked tokens.
type faultWorker struct {
	id             int
	user, password string
	device         string

	// revoked holds every token of a session whose logout (or a logout/all
	// of the user) answered 204: none may ever be accepted again.
	revoked []string
	// isRefresh marks the refresh tokens among those issued.
	isRefresh map[string]bool
	// uncertain holds tokens of sessions whose logout failed (503): they
	// may or may not be revoked, until a logout/all answers 204.
	uncertain []string
	// loggedOut is set once revoked holds a token, so the outage can wait
	// for every worker to have something to check afterwards.
	loggedOut atomic.Bool
	// recovered is when the worker's first /auth/me 200 after the restore
	// was answered (zero: not yet).
	recovered atomic.Int64
}

func (w *faultWorker) loop(fr *faultRun, hc *http.Client, stop <-chan struct{}) {
	var access, refresh string
	var session []string // every token of the current session
	sleep := func(d time.Duration) bool {
		select {
		case <-stop:
			return false
		case <-time.After(d):
			return true
		}
	}
	for k := 0; ; k++ {
		pause := faultPause
		select {
		case <-stop:
			return
		default:
		}
		switch {
		case k%3 == 2 && len(w.revoked) > 0:
			tok := w.revoked[(k/3)%len(w.revoked)]
			var rec faultRec
			switch {
			case (k/3)%2 == 1:
				rec, _ = fr.call(hc, w.id, kindRevokedVerify, http.MethodPost, "/auth/verify", w.device, "", map[string]string{"token": tok})
			case w.isRefresh[tok]:
				rec, _ = fr.call(hc, w.id, kindRevokedRefresh, http.MethodPost, "/auth/refresh", w.device, "", map[string]string{"refresh_token": tok})
			default:
				rec, _ = fr.call(hc, w.id, kindRevokedMe, http.MethodGet, "/auth/me", w.device, tok, nil)
			}
			if rec.status == http.StatusServiceUnavailable {
				pause = faultBackoff
			}
		case access == "":
			rec, m := fr.call(hc, w.id, kindLogin, http.MethodPost, "/auth/login", w.device, "",
				map[string]string{"username": w.user, "password": w.password})
			if rec.status == http.StatusOK {
				access, _ = m["access_token"].(string)
				refresh, _ = m["refresh_token"].(string)
				session = []string{access, refresh}
				w.isRefresh[refresh] = true
			}
			if rec.status != http.StatusOK {
				pause = faultBackoff
			}
		case k%5 == 4:
			rec, m := fr.call(hc, w.id, kindRefresh, http.MethodPost, "/auth/refresh", w.device, "", map[string]string{"refresh_token": refresh})
			if rec.status == http.StatusOK {
				access, _ = m["access_token"].(string)
				session = append(session, access)
			} else {
				pause = faultBackoff
			}
		case k%17 == 16:
			kind, path := kindLogout, "/auth/logout"
			if k%34 == 33 {
				kind, path = kindLogoutAll, "/auth/logout/all"
			}
			rec, _ := fr.call(hc, w.id, kind, http.MethodPost, path, w.device, access, nil)
			switch {
			case rec.status == http.StatusNoContent && kind == kindLogoutAll:
				// Every session of the user ended, the uncertain ones too.
				w.revoked = append(w.revoked, session...)
				w.revoked = append(w.revoked, w.uncertain...)
				w.uncertain = nil
				w.loggedOut.Store(true)
			case rec.status == http.StatusNoContent:
				w.revoked = append(w.revoked, session...)
				w.loggedOut.Store(true)
			default:
				w.uncertain = append(w.uncertain, session...)
				pause = faultBackoff
			}
			access, refresh, session = "", "", nil
		default:
			rec, _ := fr.call(hc, w.id, kindMe, http.MethodGet, "/auth/me", w.device, access, nil)
			if rec.status == http.StatusOK && rec.from == phaseAfter && w.recovered.Load() == 0 {
				w.recovered.Store(rec.end.UnixNano())
			}
			if rec.status != http.StatusOK {
				pause = faultBackoff
			}
		}
		if !sleep(pause) {
			return
		}
	}
}

// TestFaultDatabaseOutage cuts the PostgreSQL connection of a loaded
// server for 2 s through a TCP proxy, with the cache off and on. During
// the cut, requests that need the database get 503 unavailable with
// Retry-After, never a 500 and never a 200 for a revoked token; /healthz
// is 503. Once the database is back the server recovers by itself, and
// every logout that answered 204 is in effect.
func TestFaultDatabaseOutage(t *testing.T) {
	t.Parallel()
	for _, cache := range []bool{false, true} {
		t.Run("cache="+strconv.FormatBool(cache), func(t *testing.T) {
			t.Parallel()
			faultOutageRun(t, cache)
		})
	}
}

// proxiedDSN returns a fresh PostgreSQL database reached through a proxy
// the test controls. connect_timeout bounds every new connection: the
// driver's default is to wait for the operating system.
func proxiedDSN(t *testing.T) (*tcpProxy, string) {
	t.Helper()
	u, err := url.Parse(pgtest.DSN(t))
	require.NoError(t, err, "the fault tests need a postgres:// URL")
	target := u.Host
	if u.Port() == "" {
		target += ":5432"
	}
	proxy := startTCPProxy(t, target)
	u.Host = proxy.Addr()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return proxy, u.String()
}

func faultOutageRun(t *testing.T, cache bool) {
	proxy, dsn := proxiedDSN(t)

	workers := make([]*faultWorker, faultWorkers)
	var users []string
	for i := range workers {
		w := &faultWorker{id: i, user: fmt.Sprintf("f%d", i), password: fmt.Sprintf("f%d-password", i),
			device: fmt.Sprintf("dev-%d", i), isRefresh: map[string]bool{}}
		workers[i] = w
		users = append(users, w.user+":"+w.password)
	}
	s := start(t, map[string]string{
		"JWTAUTH_DATABASE_URL": dsn,
		"JWTAUTH_CACHE":        strconv.FormatBool(cache),
		"JWTAUTH_DEMO_USERS":   strings.Join(users, ","),
	})
	fr := &faultRun{s: s}
	newHC := func() *http.Client {
		tr := &http.Transport{MaxIdleConnsPerHost: 2}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range workers {
		hc := newHC()
		wg.Go(func() { w.loop(fr, hc, stop) })
	}
	var healthRecovered atomic.Int64
	hc := newHC()
	wg.Go(func() {
		for {
			rec, _ := fr.call(hc, -1, kindHealthz, http.MethodGet, "/healthz", "", "", nil)
			if rec.status == http.StatusOK && rec.from == phaseAfter && healthRecovered.Load() == 0 {
				healthRecovered.Store(rec.end.UnixNano())
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})

	// Warm up, and until every worker has logged out once (a loaded
	// machine can be slow), so that no-lost-writes has tokens to check.
	time.Sleep(faultWarmup)
	require.Eventually(t, func() bool {
		for _, w := range workers {
			if !w.loggedOut.Load() {
				return false
			}
		}
		return true
	}, 60*time.Second, 20*time.Millisecond, "workers logged out before the outage")
	proxy.Cut()
	cutAt := time.Now()
	fr.phase.Store(phaseOutage)
	time.Sleep(faultOutage)
	fr.phase.Store(phaseAfter)
	proxy.Restore()
	restored := time.Now()

	// Run on until every worker and /healthz recovered, and at least
	// faultAfter; give up after faultRecoverMax.
	deadline := restored.Add(faultRecoverMax)
	for {
		done := healthRecovered.Load() != 0 && time.Since(restored) >= faultAfter
		for _, w := range workers {
			done = done && w.recovered.Load() != 0
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	fr.mu.Lock()
	recs := slices.Clone(fr.recs)
	fr.mu.Unlock()
	faultReport(t, cache, recs, cutAt, restored, workers, healthRecovered.Load(), proxy)

	// No lost writes: every token of a logout that answered 204 is
	// revoked now that the database is back (cache off and on alike).
	revoked := 0
	for _, w := range workers {
		c := s.client(t, clientOpts{Device: w.device, UA: "fault/1"})
		for _, tok := range w.revoked {
			if w.isRefresh[tok] {
				wantError(t, c.refresh(t, tok), http.StatusUnauthorized, "token_revoked")
			} else {
				wantError(t, c.me(t, tok), http.StatusUnauthorized, "token_revoked")
			}
			revoked++
		}
	}
	assert.Positive(t, revoked, "the run revoked tokens")
	t.Logf("after recovery: all %d tokens of sessions logged out with a 204 answer 401 token_revoked", revoked)
}

// faultReport checks the records of a run and logs its figures.
func faultReport(t *testing.T, cache bool, recs []faultRec, cutAt, restored time.Time, workers []*faultWorker, healthRecovered int64, proxy *tcpProxy) {
	t.Helper()
	revokedKind := func(k string) bool { return k == kindRevokedMe || k == kindRevokedRefresh || k == kindRevokedVerify }
	outage := map[string]map[int]int{}
	statuses := map[int]bool{}
	var inOutage, okInOutage, before200 int
	for _, r := range recs {
		what := fmt.Sprintf("%s (worker %d, phase %d→%d): %d %s %s", r.kind, r.worker, r.from, r.to, r.status, r.code, r.err)
		// Always: an answer, never a 5xx but 503, every 503 the contract's.
		if !assert.NotZero(t, r.status, "transport error: %s", what) {
			continue
		}
		assert.True(t, r.status < 500 || r.status == http.StatusServiceUnavailable, "never a 5xx but 503: %s", what)
		assert.Empty(t, r.contract, "docs/openapi.yaml: %s", what)
		if r.status == http.StatusServiceUnavailable {
			assert.Equal(t, "unavailable", r.code, what)
			assert.Equal(t, "1", r.retryAfter, "Retry-After: %s", what)
			assert.Equal(t, "application/json", r.ctype, what)
		}
		// Never a 200 for a revoked token; otherwise only the expected
		// answers of each kind.
		switch {
		case revokedKind(r.kind):
			assert.Contains(t, []int{http.StatusUnauthorized, http.StatusServiceUnavailable}, r.status, what)
			if r.status == http.StatusUnauthorized {
				assert.Equal(t, "token_revoked", r.code, what)
			}
		case r.kind == kindLogout || r.kind == kindLogoutAll:
			assert.Contains(t, []int{http.StatusNoContent, http.StatusServiceUnavailable}, r.status, what)
		default:
			assert.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, r.status, what)
		}
		if r.from == phaseBefore && r.to == phaseBefore && r.status == http.StatusOK {
			before200++
		}
		if !r.inOutage() {
			continue
		}
		inOutage++
		if outage[r.kind] == nil {
			outage[r.kind] = map[int]int{}
		}
		outage[r.kind][r.status]++
		statuses[r.status] = true
		if r.status != http.StatusServiceUnavailable {
			// With the cache off every request needs the database. With
			// the cache on a token already validated could be answered from
			// the cache until the bus notices the lost listener connection
			// (it then bypasses the cache): allowed, and counted.
			if cache && (r.status == http.StatusOK || revokedKind(r.kind)) && r.kind != kindHealthz {
				okInOutage++
				continue
			}
			t.Errorf("during the outage every request must get 503: %s", what)
		}
	}
	assert.Positive(t, before200, "the load worked before the cut")
	assert.Positive(t, inOutage, "requests were answered during the outage")
	assert.Positive(t, outage[kindHealthz][http.StatusServiceUnavailable], "/healthz answered 503 during the outage")

	// The table of answers during the outage.
	codes := slices.Sorted(func(yield func(int) bool) {
		for c := range statuses {
			if !yield(c) {
				return
			}
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "cache=%v: requests sent after the cut and answered before the restore (%s), by status:\n", cache, faultOutage)
	fmt.Fprintf(&b, "  %-16s", "request")
	for _, c := range codes {
		fmt.Fprintf(&b, " %6d", c)
	}
	b.WriteString("\n")
	for _, k := range faultKinds {
		if outage[k] == nil {
			continue
		}
		fmt.Fprintf(&b, "  %-16s", k)
		for _, c := range codes {
			fmt.Fprintf(&b, " %6d", outage[k][c])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  total %d, of which 200 (or 401 from the cache) for live tokens: %d\n", inOutage, okInOutage)
	t.Log(b.String())

	// Recovery without a restart.
	first := time.Duration(-1)
	for _, r := range recs {
		if r.kind == kindMe && r.status == http.StatusOK && r.from == phaseAfter {
			if d := r.end.Sub(restored); first < 0 || d < first {
				first = d
			}
		}
	}
	var all time.Duration
	for _, w := range workers {
		ns := w.recovered.Load()
		if !assert.NotZero(t, ns, "worker %d recovered within %s", w.id, faultRecoverMax) {
			continue
		}
		all = max(all, time.Unix(0, ns).Sub(restored))
	}
	require.NotZero(t, healthRecovered, "/healthz recovered within %s", faultRecoverMax)
	t.Logf("cache=%v: recovery after the restore: first /auth/me 200 after %s, every worker after %s, /healthz 200 after %s; "+
		"outage %s; proxy: %d connections forwarded, %d severed by the cut, %d refused during it; %d requests in all",
		cache, first.Round(time.Millisecond), all.Round(time.Millisecond),
		time.Unix(0, healthRecovered).Sub(restored).Round(time.Millisecond), restored.Sub(cutAt).Round(time.Millisecond),
		proxy.forwarded.Load(), proxy.severed.Load(), proxy.refused.Load(), len(recs))
}

// TestFaultDatabaseUnresponsive: the database stops answering without
// closing anything (a black-holed network, a frozen host). lib/pq cannot
// end a query on such a connection by itself (cancelling sends a
// CancelRequest and keeps waiting for the answer: lib/pq#620, #450), so
// sqlstore.OpenPostgres puts a deadline (sqlstore.IOTimeout) on every read
// and write: requests get 503 within it instead of hanging.
func TestFaultDatabaseUnresponsive(t *testing.T) {
	t.Parallel()
	const clients = 8
	proxy, dsn := proxiedDSN(t)
	s := start(t, map[string]string{"JWTAUTH_DATABASE_URL": dsn, "JWTAUTH_CACHE": "false"})
	lr := s.client(t, clientOpts{Device: "d"}).login(t, "alice", "alice-password")
	fr := &faultRun{s: s}
	burst := func() []faultRec {
		var wg sync.WaitGroup
		for i := range clients {
			hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
			wg.Go(func() { fr.call(hc, i, kindMe, http.MethodGet, "/auth/me", "d", lr.AccessToken, nil) })
		}
		hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
		wg.Go(func() { fr.call(hc, -1, kindHealthz, http.MethodGet, "/healthz", "", "", nil) })
		wg.Wait()
		fr.mu.Lock()
		defer fr.mu.Unlock()
		recs := fr.recs
		fr.recs = nil
		return recs
	}
	for _, r := range burst() { // the pool now holds several connections
		require.Equal(t, http.StatusOK, r.status, "%s before the stall: %s", r.kind, r.err)
	}
	proxy.Stall()
	recs := burst()
	proxy.Restore()
	for _, r := range recs {
		d := r.end.Sub(r.start).Round(time.Millisecond)
		t.Logf("%s while the database is silent: %d %s after %s %s", r.kind, r.status, r.code, d, r.err)
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "%s: %s", r.kind, r.err)
		assert.Empty(t, r.contract, "docs/openapi.yaml: %s", r.kind)
		assert.Less(t, d, sqlstore.IOTimeout+2*time.Second, r.kind)
	}
}
