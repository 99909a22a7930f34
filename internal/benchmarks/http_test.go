package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/echoauth"
	"github.com/jwtauth/jwtauth/domain"
)

// loadConfig sizes a load test run.
type loadConfig struct {
	rounds   int // each server is measured once per round
	requests int // per server and round
	conns    int // concurrent keep-alive connections
}

// loadShort runs by default (about a second); loadLong with
// JWTAUTH_LOAD=1.
var (
	loadShort = loadConfig{rounds: 2, requests: 5_000, conns: 8}
	loadLong  = loadConfig{rounds: 4, requests: 20_000, conns: 16}
)

// target is one server under load.
type target struct {
	name   string
	url    string
	header http.Header
}

// TestHTTPLoadEchoauthVsEchoJWT serves the same trivial handler (it
// writes the user's name from the token) behind three Echo servers on
// 127.0.0.1: the jwtauth echoauth middleware (encrypted token, IP and
// device binding, generation and session checks through a warm bigcache),
// labstack/echo-jwt (golang-jwt ParseWithClaims of an HS256 token with the
// same claims, nothing else checked), and no authentication at all. An
// in-process load generator sends a fixed number of requests over N
// keep-alive connections to each in turn, alternating the order every
// round, and logs requests/s and latency percentiles. It asserts only
// that every request succeeded.
//
// By default it is a short smoke run; JWTAUTH_LOAD=1 runs the measurement
// reported in docs/benchmarks.md:
//
//	JWTAUTH_LOAD=1 go test -run TestHTTPLoad -v ./internal/benchmarks/
func TestHTTPLoadEchoauthVsEchoJWT(t *testing.T) {
	cfg := loadShort
	if os.Getenv("JWTAUTH_LOAD") == "1" {
		cfg = loadLong
	}
	targets := []target{
		jwtauthServer(t),
		echoJWTServer(t),
		bareServer(t),
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.conns,
		MaxConnsPerHost:     cfg.conns,
		DisableCompression:  true,
	}}
	t.Cleanup(client.CloseIdleConnections)

	for _, tg := range targets { // warm up: connections, caches
		runLoad(t, client, tg, cfg.requests/10+cfg.conns, cfg.conns)
	}
	results := make(map[string]*loadResult, len(targets))
	for r := range cfg.rounds {
		order := slices.Clone(targets)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, tg := range order {
			res := runLoad(t, client, tg, cfg.requests, cfg.conns)
			t.Logf("round %d %-9s %8.0f req/s  p50 %v  p99 %v", r+1, tg.name, res.rate(), res.percentile(50), res.percentile(99))
			if results[tg.name] == nil {
				results[tg.name] = &loadResult{}
			}
			results[tg.name].add(res)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rounds x %d requests per server, %d connections, GOMAXPROCS %d\n",
		cfg.rounds, cfg.requests, cfg.conns, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "| server | requests/s | p50 | p99 |\n|---|---:|---:|---:|\n")
	for _, tg := range targets {
		res := results[tg.name]
		fmt.Fprintf(&b, "| %s | %.0f | %v | %v |\n", tg.name, res.rate(), res.percentile(50), res.percentile(99))
	}
	a, e, bare := results["jwtauth"], results["echo-jwt"], results["bare"]
	fmt.Fprintf(&b, "HTTP ratio jwtauth/echo-jwt requests/s: %.2fx (p99 %v vs %v); jwtauth keeps %.0f%% of bare Echo, echo-jwt %.0f%%",
		a.rate()/e.rate(), a.percentile(99), e.percentile(99), 100*a.rate()/bare.rate(), 100*e.rate()/bare.rate())
	t.Log("\n" + b.String())
}

// loadResult is what runLoad measured.
type loadResult struct {
	requests  int
	elapsed   time.Duration
	latencies []time.Duration
}

func (r *loadResult) add(o loadResult) {
	r.requests += o.requests
	r.elapsed += o.elapsed
	r.latencies = append(r.latencies, o.latencies...)
}

// rate is requests per second.
func (r *loadResult) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// percentile returns the p-th percentile latency, rounded to a
// microsecond.
func (r *loadResult) percentile(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(time.Microsecond)
}

// runLoad sends n GET requests to tg over conns concurrent connections and
// fails the test on any error or status other than 200.
func runLoad(t *testing.T, client *http.Client, tg target, n, conns int) loadResult {
	t.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			ctx := context.Background()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() != nil {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, tg.url, nil)
				if err != nil {
					failed.Store(err)
					return
				}
				req.Header = tg.header.Clone()
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					if err == nil && res.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: status %d", tg.name, res.StatusCode)
					}
				}
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("%s: %v", tg.name, err)
	}
	return loadResult{requests: n, elapsed: elapsed, latencies: lat}
}

// serve runs e on a new 127.0.0.1 listener until the test ends and returns
// the URL of path.
func serve(t *testing.T, e *echo.Echo, path string) string {
	t.Helper()
	e.HideBanner, e.HidePort = true, true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + path
}

// loadClient is the client of the load generator as jwtauth sees it.
var loadClient = domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "load-generator", DeviceName: "Go-http-client/1.1"}

// jwtauthServer is Echo with the echoauth middleware over a Service with
// a warm bigcache, the user claims from the token.
func jwtauthServer(t *testing.T) target {
	t.Helper()
	e, header := jwtauthEcho(t)
	return target{name: "jwtauth", url: serve(t, e, "/hello"), header: header}
}

// jwtauthEcho is Echo serving GET /hello (the user's name) behind the
// echoauth middleware over a Service with a warm bigcache and the user
// claims from the token, and the headers of the load generator's
// requests: alice's access token and device.
func jwtauthEcho(tb testing.TB) (*echo.Echo, http.Header) {
	tb.Helper()
	svc := newService(tb, memoryBackend(tb))
	pair, err := svc.Login(context.Background(), "alice", alice, loadClient)
	require.NoError(tb, err)
	auth, err := echoauth.New(echoauth.Config[User]{Service: svc})
	require.NoError(tb, err)
	e := echo.New()
	e.GET("/hello", func(c echo.Context) error {
		p, ok := echoauth.Principal[User](c)
		if !ok {
			return echo.ErrUnauthorized
		}
		return c.String(http.StatusOK, p.User.Name)
	}, auth.Middleware())
	return e, http.Header{
		"Authorization": {"Bearer " + pair.AccessToken},
		"X-Device-Id":   {loadClient.DeviceID},
	}
}

// echoJWTServer is Echo with labstack/echo-jwt parsing an HS256 token of
// the same claims into a struct.
func echoJWTServer(t *testing.T) target {
	t.Helper()
	key := randomKey(t)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, newBaselineClaims(time.Now())).SignedString(key)
	require.NoError(t, err)
	e := echo.New()
	mw := echojwt.WithConfig(echojwt.Config{
		SigningKey:    key,
		NewClaimsFunc: func(echo.Context) jwt.Claims { return new(baselineClaims) },
	})
	e.GET("/hello", func(c echo.Context) error {
		tok, ok := c.Get("user").(*jwt.Token)
		if !ok {
			return echo.ErrUnauthorized
		}
		return c.String(http.StatusOK, tok.Claims.(*baselineClaims).User.Name)
	}, mw)
	return target{name: "echo-jwt", url: serve(t, e, "/hello"), header: http.Header{
		"Authorization": {"Bearer " + tok},
	}}
}

// bareServer is Echo with no authentication: the ceiling.
func bareServer(t *testing.T) target {
	t.Helper()
	e := echo.New()
	e.GET("/hello", func(c echo.Context) error { return c.String(http.StatusOK, alice.Name) })
	return target{name: "bare", url: serve(t, e, "/hello"), header: http.Header{}}
}
