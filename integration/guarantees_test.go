package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// The tests of docs/security.md "Guarantees under faults". Each counts
// wrong answers (a revoked token accepted, a valid one rejected, a 5xx
// other than 503, a write that landed after its client was answered) and
// asserts there are none.

// heartbeat is JWTAUTH_BUS_HEARTBEAT's default: a deaf instance must
// bypass its cache within twice that.
const heartbeat = 250 * time.Millisecond

// quick sends one request without the contract checks of client.do (a
// 503 is an expected answer here) and returns its status, error code and
// body.
func quick(hc *http.Client, method, url, device, token string, body any) (int, string, map[string]any) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = strings.NewReader(string(raw))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err.Error(), nil
	}
	// The device is in the User-Agent too: it is the device name a session
	// lists, so a test can tell whose sessions exist.
	req.Header.Set("User-Agent", strings.TrimSpace("guarantees/1 "+device))
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
	if err != nil {
		return 0, err.Error(), nil
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	code, _ := m["error"].(string)
	return res.StatusCode, code, m
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// healthState returns /healthz's status and body.
func healthState(hc *http.Client, s *instance) (int, map[string]any) {
	st, _, m := quick(hc, http.MethodGet, s.URL+"/healthz", "", "", nil)
	return st, m
}

// waitHealthy waits (at most 15 s) until s's /healthz is 200 with the bus
// ok.
func waitHealthy(t *testing.T, hc *http.Client, s *instance) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, m := healthState(hc, s)
		if st == http.StatusOK && m["bus"] == "ok" && m["cache"] == "on" {
			return
		}
		require.True(t, time.Now().Before(deadline), "healthy within 15s: %d %v", st, m)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFaultRevocationSeenAtOnce: two instances, cache on. In each of 500
// rounds a session is logged in on A and warm in B's cache, logged out on
// A (204), and the very next request to B must reject its token. The
// logout returns only once its NOTIFY came back on A's own listener.
func TestFaultRevocationSeenAtOnce(t *testing.T) {
	t.Parallel()
	const rounds = 500
	env := merge(keygen(t), map[string]string{"JWTAUTH_DATABASE_URL": pgtest.DSN(t)})
	a := start(t, env)
	b := start(t, env)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 15 * time.Second}
	waitHealthy(t, hc, a)
	waitHealthy(t, hc, b)
	var (
		accepted int
		logout   []time.Duration
	)
	for i := range rounds {
		dev := "dev-" + strconv.Itoa(i%8)
		st, code, m := quick(hc, http.MethodPost, a.URL+"/auth/login", dev, "", map[string]string{"username": "alice", "password": "alice-password"})
		require.Equal(t, http.StatusOK, st, "login: %s", code)
		access, _ := m["access_token"].(string)
		a.remember(access)
		st, code, _ = quick(hc, http.MethodGet, b.URL+"/auth/me", dev, access, nil)
		require.Equal(t, http.StatusOK, st, "B accepts the live token: %s", code)
		start := time.Now()
		st, code, _ = quick(hc, http.MethodPost, a.URL+"/auth/logout", dev, access, nil)
		logout = append(logout, time.Since(start))
		require.Equal(t, http.StatusNoContent, st, "logout: %s", code)
		st, code, _ = quick(hc, http.MethodGet, b.URL+"/auth/me", dev, access, nil)
		if st == http.StatusOK {
			accepted++
			continue
		}
		require.Equal(t, http.StatusUnauthorized, st, "B: %s", code)
		assert.Equal(t, "token_revoked", code)
	}
	t.Logf("revocation A→B over %d rounds: revoked token accepted by B right after the 204 %d times; logout on A p50 %v, p99 %v",
		rounds, accepted, percentile(logout, 0.5).Round(10*time.Microsecond), percentile(logout, 0.99).Round(10*time.Microsecond))
	assert.Zero(t, accepted, "revoked tokens accepted after the 204")
}

// TestFaultStalledListener: B's LISTEN connection stays open but stops
// delivering (a proxy holds the server's bytes back). A revocation on A
// cannot reach B; B must stop trusting its cache within 2 × heartbeat and
// reject the token from then on, say so on /healthz, and when the bytes
// flow again, be healthy with the token still rejected.
func TestFaultStalledListener(t *testing.T) {
	t.Parallel()
	const cycles = 5
	proxy, dsn := proxiedDSN(t)
	keys := keygen(t)
	a := start(t, merge(keys, map[string]string{"JWTAUTH_DATABASE_URL": dsnWithoutProxy(t, dsn, proxy)}))
	b := start(t, merge(keys, map[string]string{"JWTAUTH_DATABASE_URL": dsn}))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 15 * time.Second}
	waitHealthy(t, hc, a)
	waitHealthy(t, hc, b)

	var (
		worst     time.Duration // longest a revoked token was accepted after its 204
		sinceSent time.Duration // longest a revoked token was accepted after the logout was sent
		wrong     int           // a revoked token accepted after 2 × heartbeat, a live one rejected
		logouts   []time.Duration
	)
	for c := range cycles {
		dev := "dev-" + strconv.Itoa(c)
		st, code, m := quick(hc, http.MethodPost, a.URL+"/auth/login", dev, "", map[string]string{"username": "alice", "password": "alice-password"})
		require.Equal(t, http.StatusOK, st, code)
		access, _ := m["access_token"].(string)
		a.remember(access)
		for range 3 { // warm in B's cache
			st, code, _ = quick(hc, http.MethodGet, b.URL+"/auth/me", dev, access, nil)
			require.Equal(t, http.StatusOK, st, code)
		}

		proxy.PauseListeners()
		stalled := time.Now()
		// Probe B while the logout runs too.
		probing := make(chan time.Time)
		go func() {
			var last time.Time
			for {
				select {
				case probing <- last:
					return
				default:
				}
				// An acceptance counts from when its request was sent: B
				// decided after that.
				sent := time.Now()
				if st, _, _ := quick(hc, http.MethodGet, b.URL+"/auth/me", dev, access, nil); st == http.StatusOK {
					last = sent
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
		st, code, _ = quick(hc, http.MethodPost, a.URL+"/auth/logout", dev, access, nil)
		require.Equal(t, http.StatusNoContent, st, code)
		revoked := time.Now()
		logouts = append(logouts, revoked.Sub(stalled))
		if last := <-probing; !last.IsZero() {
			sinceSent = max(sinceSent, last.Sub(stalled))
		}
		var lastAccepted time.Time
		for time.Since(revoked) < 4*heartbeat {
			sent := time.Now()
			st, _, _ := quick(hc, http.MethodGet, b.URL+"/auth/me", dev, access, nil)
			switch st {
			case http.StatusOK: // after the 204: worst > 0 fails the test below
				lastAccepted = sent
			case http.StatusUnauthorized, http.StatusServiceUnavailable:
			default:
				wrong++
			}
			time.Sleep(2 * time.Millisecond)
		}
		if !lastAccepted.IsZero() {
			worst = max(worst, lastAccepted.Sub(revoked))
		}
		hst, h := healthState(hc, b)
		assert.Equal(t, http.StatusOK, hst, "the store answers")
		assert.Equal(t, "down", h["bus"], "healthz tells the bus is deaf")
		assert.Equal(t, "bypassed", h["cache"])

		proxy.Resume()
		waitHealthy(t, hc, b)
		for range 20 {
			st, code, _ := quick(hc, http.MethodGet, b.URL+"/auth/me", dev, access, nil)
			if st != http.StatusUnauthorized {
				wrong++
				t.Errorf("after the stall the revoked token got %d %s", st, code)
				break
			}
		}
	}
	t.Logf("stalled listener on B, %d cycles (heartbeat %v): revoked token accepted by B (counted by request sent) after the 204 for at most %v, "+
		"after the stall began for at most %v; the logout on A took at most %v (B excused after 2 × heartbeat)",
		cycles, heartbeat, worst.Round(time.Millisecond), sinceSent.Round(time.Millisecond), slices.Max(logouts).Round(time.Millisecond))
	assert.Zero(t, wrong, "wrong answers")
	assert.Zero(t, worst, "no revoked token accepted after the 204")
	assert.LessOrEqual(t, sinceSent, 2*heartbeat+50*time.Millisecond)
	// A deaf peer is excused after 2 × heartbeat: the logout must not wait
	// for the database timeout (2 s) instead.
	assert.Less(t, slices.Max(logouts), 2*heartbeat+time.Second, "the logout on A waited for the deaf B")
}

// dsnWithoutProxy returns dsn pointing at the proxy's target directly.
func dsnWithoutProxy(t *testing.T, dsn string, p *tcpProxy) string {
	t.Helper()
	return strings.Replace(dsn, p.Addr(), p.target, 1)
}

// TestFaultFrozenDatabase: the database stops answering (every byte held
// back) while requests arrive: more than the pool holds. Every request is
// answered 503 within the request timeout, /healthz within 2 s; after the
// thaw nothing the clients were told failed has happened (no session of a
// failed login, failed logouts did not log out), and a refresh that failed
// is retried with the same token and succeeds.
func TestFaultFrozenDatabase(t *testing.T) {
	t.Parallel()
	const (
		before = 6
		// At most the throttle's concurrent password checks (2 ×
		// GOMAXPROCS of the server, 4 here): more queue for a check slot
		// and, on a loaded machine, get 429 after 250 ms, which is the
		// throttle's answer, not the database's.
		logins   = 4
		dbTO     = time.Second
		reqTO    = 3 * time.Second
		maxConns = 2
	)
	proxy, dsn := proxiedDSN(t)
	s := start(t, map[string]string{
		"JWTAUTH_DATABASE_URL":    dsn,
		"JWTAUTH_ROTATE_REFRESH":  "true",
		"JWTAUTH_DB_TIMEOUT":      dbTO.String(),
		"JWTAUTH_REQUEST_TIMEOUT": reqTO.String(),
		"JWTAUTH_DB_MAX_CONNS":    strconv.Itoa(maxConns),
	})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 15 * time.Second}
	waitHealthy(t, hc, s)
	type dev struct{ id, access, refresh string }
	devs := make([]dev, before)
	for i := range devs {
		devs[i].id = "before-" + strconv.Itoa(i)
		st, code, m := quick(hc, http.MethodPost, s.URL+"/auth/login", devs[i].id, "", map[string]string{"username": "alice", "password": "alice-password"})
		require.Equal(t, http.StatusOK, st, code)
		devs[i].access, _ = m["access_token"].(string)
		devs[i].refresh, _ = m["refresh_token"].(string)
		s.remember(devs[i].access, devs[i].refresh)
	}

	proxy.Pause()
	time.Sleep(2*heartbeat + 100*time.Millisecond) // the cache is bypassed now
	type answer struct {
		what   string
		status int
		code   string
		took   time.Duration
		body   map[string]any
	}
	var (
		mu      sync.Mutex
		answers []answer
		wg      sync.WaitGroup
	)
	send := func(what, method, path, device, token string, body any) {
		wg.Go(func() {
			start := time.Now()
			st, code, m := quick(hc, method, s.URL+path, device, token, body)
			mu.Lock()
			defer mu.Unlock()
			answers = append(answers, answer{what, st, code, time.Since(start), m})
		})
	}
	for i := range logins {
		send("login", http.MethodPost, "/auth/login", "frozen-"+strconv.Itoa(i), "", map[string]string{"username": "alice", "password": "alice-password"})
	}
	for _, d := range devs[:3] {
		send("refresh", http.MethodPost, "/auth/refresh", d.id, "", map[string]string{"refresh_token": d.refresh})
	}
	for _, d := range devs[3:5] {
		send("logout", http.MethodPost, "/auth/logout", d.id, d.access, nil)
	}
	send("me", http.MethodGet, "/auth/me", devs[5].id, devs[5].access, nil)
	send("healthz", http.MethodGet, "/healthz", "", "", nil)
	send("healthz", http.MethodGet, "/healthz", "", "", nil)
	wg.Wait()
	proxy.Resume()

	var wrong int
	var slowest time.Duration
	for _, a := range answers {
		slowest = max(slowest, a.took)
		if a.status != http.StatusServiceUnavailable || a.code != "unavailable" {
			wrong++
			t.Errorf("%s while frozen: %d %s (want 503 unavailable)", a.what, a.status, a.code)
		}
		if a.what == "healthz" {
			assert.Less(t, a.took, 2*time.Second, "healthz answers within 2 s")
			assert.Equal(t, "down", a.body["store"])
		} else {
			assert.Less(t, a.took, reqTO+500*time.Millisecond, "%s answered within the request timeout", a.what)
		}
	}
	t.Logf("frozen database (pool %d, %d requests): every answer 503, slowest after %v (DB timeout %v, request timeout %v)",
		maxConns, len(answers), slowest.Round(time.Millisecond), dbTO, reqTO)

	waitHealthy(t, hc, s)
	// Nothing the clients were told failed has happened.
	for _, d := range devs[3:6] {
		st, code, _ := quick(hc, http.MethodGet, s.URL+"/auth/me", d.id, d.access, nil)
		if st != http.StatusOK {
			wrong++
			t.Errorf("%s: a logout answered 503 logged out after all (or a live token is rejected): %d %s", d.id, st, code)
		}
	}
	// A refresh whose answer was 503 is retried with the same token.
	for _, d := range devs[:3] {
		st, code, m := quick(hc, http.MethodPost, s.URL+"/auth/refresh", d.id, "", map[string]string{"refresh_token": d.refresh})
		if st != http.StatusOK {
			wrong++
			t.Errorf("%s: retried refresh after the stall: %d %s", d.id, st, code)
			continue
		}
		access, _ := m["access_token"].(string)
		s.remember(access)
		st, code, _ = quick(hc, http.MethodGet, s.URL+"/auth/me", d.id, access, nil)
		if st != http.StatusOK {
			wrong++
			t.Errorf("%s: the retried pair does not work: %d %s", d.id, st, code)
		}
	}
	// No session of a failed login exists.
	c := s.client(t, clientOpts{Device: "after"})
	lr := c.login(t, "alice", "alice-password")
	sessions := c.sessions(t, lr.AccessToken)
	for _, sess := range sessions {
		if name, _ := sess["device_name"].(string); strings.Contains(name, "frozen-") {
			wrong++
			t.Errorf("a session of a login answered 503 exists: %v", sess)
		}
	}
	if len(sessions) != before+1 {
		wrong++
		t.Errorf("sessions after the thaw: %d, want %d (a failed login committed after its 503)", len(sessions), before+1)
	}
	assert.Zero(t, wrong, "wrong answers")
}

// TestFaultShutdownUnderFreeze: SIGTERM while the database is frozen and
// requests are in flight: they are answered 503, and the process exits 0
// within JWTAUTH_SHUTDOWN_TIMEOUT.
func TestFaultShutdownUnderFreeze(t *testing.T) {
	t.Parallel()
	const shutdownTO = 4 * time.Second
	proxy, dsn := proxiedDSN(t)
	s := start(t, map[string]string{
		"JWTAUTH_DATABASE_URL":     dsn,
		"JWTAUTH_DB_TIMEOUT":       "1s",
		"JWTAUTH_REQUEST_TIMEOUT":  "2s",
		"JWTAUTH_SHUTDOWN_TIMEOUT": shutdownTO.String(),
	})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 15 * time.Second}
	waitHealthy(t, hc, s)
	st, code, m := quick(hc, http.MethodPost, s.URL+"/auth/login", "d", "", map[string]string{"username": "alice", "password": "alice-password"})
	require.Equal(t, http.StatusOK, st, code)
	access, _ := m["access_token"].(string)
	s.remember(access)

	proxy.Pause()
	time.Sleep(2*heartbeat + 100*time.Millisecond)
	statuses := make(chan int, 4)
	for range cap(statuses) {
		go func() {
			st, _, _ := quick(hc, http.MethodGet, s.URL+"/auth/me", "d", access, nil)
			statuses <- st
		}()
	}
	time.Sleep(200 * time.Millisecond) // in flight
	start := time.Now()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.exited:
	case <-time.After(shutdownTO + 5*time.Second):
		t.Fatalf("no exit within %v of SIGTERM", shutdownTO+5*time.Second)
	}
	took := time.Since(start)
	for range cap(statuses) {
		assert.Equal(t, http.StatusServiceUnavailable, <-statuses, "an in-flight request is answered")
	}
	t.Logf("shutdown with the database frozen: exit after %v (timeout %v)", took.Round(time.Millisecond), shutdownTO)
	assert.NoError(t, s.exitErr, "exit 0")
	assert.Less(t, took, shutdownTO+time.Second)
	proxy.Resume()
}

// TestFaultSQLiteOneProcess: a second server on the same SQLite file
// refuses to start (exit 2) naming the file and the holder's PID; of many
// concurrent first starts on a fresh directory exactly one serves and
// none dies of SQLITE_BUSY.
func TestFaultSQLiteOneProcess(t *testing.T) {
	t.Parallel()
	keys := keygen(t)
	dir := t.TempDir()
	envList := func(dir string) []string {
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "JWTAUTH_ENV=test",
			"JWTAUTH_ADDR=127.0.0.1:0", "JWTAUTH_DATA_DIR=" + dir, "GORACE=atexit_sleep_ms=0"}
		for k, v := range keys {
			env = append(env, k+"="+v)
		}
		return env
	}
	a := start(t, merge(keys, map[string]string{"JWTAUTH_DATA_DIR": dir}))
	out, code := runBinary(t, envList(dir), "serve")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, filepath.Join(dir, "jwtauth.db"))
	assert.Contains(t, out, "PID "+strconv.Itoa(a.cmd.Process.Pid))
	wantMe(t, a.client(t, clientOpts{}).me(t, a.client(t, clientOpts{}).login(t, "alice", "alice-password").AccessToken), "alice")

	// Concurrent first starts.
	const n = 8
	fresh := t.TempDir()
	type result struct {
		listening bool
		code      int
		out       string
		cmd       *exec.Cmd
	}
	results := make(chan result, n)
	for range n {
		go func() {
			cmd := exec.Command(binary, "serve")
			cmd.Env = envList(fresh)
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil || cmd.Start() != nil {
				results <- result{code: -1, out: fmt.Sprint(err)}
				return
			}
			listening := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "listening on ") {
						listening <- true
						return
					}
				}
				listening <- false
			}()
			select {
			case ok := <-listening:
				if ok {
					results <- result{listening: true, cmd: cmd}
					return
				}
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill() // neither serving nor refused: do not hang the test
			}
			err = cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			results <- result{code: code, out: stderr.String()}
		}()
	}
	// The ones serving keep the lock until every start has ended.
	var serving []*exec.Cmd
	defer func() {
		for _, cmd := range serving {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			assert.NoError(t, cmd.Wait(), "the one serving stops cleanly")
		}
	}()
	for range n {
		r := <-results
		if r.listening {
			serving = append(serving, r.cmd)
			continue
		}
		assert.Equal(t, 2, r.code, r.out)
		assert.Contains(t, r.out, "held by PID", r.out)
		assert.NotContains(t, r.out, "SQLITE_BUSY")
		assert.NotContains(t, r.out, "database is locked")
	}
	assert.Len(t, serving, 1, "exactly one of %d concurrent first starts serves", n)
}
