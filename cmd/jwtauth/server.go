package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/echoauth"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/throttle"
)

// Server limits and intervals.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	// writeTimeout is the least write deadline; it grows with
	// JWTAUTH_REQUEST_TIMEOUT so that the 503 of a request past its
	// deadline is always written before the connection is cut.
	writeTimeout = 10 * time.Second
	idleTimeout  = 60 * time.Second
	// maxHeaderBytes leaves room for an Authorization header well over
	// domain.MaxTokenLen, so that an oversized token reaches the handlers
	// and gets the contract's JSON 401, never Go's plain-text 431.
	maxHeaderBytes = 4 * domain.MaxTokenLen
	// healthTimeout bounds the store check of /healthz, which answers
	// within it whatever the database does (2 s promised, 1.5 s used).
	healthTimeout = 1500 * time.Millisecond
	// loginQueueWait is how long a login waits for one of the throttle's
	// password-check slots before it is answered 429.
	loginQueueWait = 250 * time.Millisecond
)

// server is the reference server: the echoauth adapter's routes, a login
// route over the demo users, GET /auth/me and GET /healthz.
type server struct {
	cfg      jwtauth.Config
	log      *slog.Logger
	backend  *jwtauth.Backend
	cleanup  func()
	svc      *app.Service[DemoUser]
	auth     *echoauth.Auth[DemoUser]
	users    *demoUsers
	throttle *throttle.Throttle
	echo     *echo.Echo
	http     *httpMetrics

	closeOnce sync.Once
}

// newServer builds the server for cfg, whose keys must be set: it opens
// (and migrates) the backend cfg names and hashes the demo users. Close
// releases it.
func newServer(ctx context.Context, cfg jwtauth.Config, log *slog.Logger) (*server, error) {
	cost := bcrypt.DefaultCost
	if cfg.Env == "test" {
		cost = bcrypt.MinCost // keeps the test suites fast
	}
	users, err := newDemoUsers(cfg.DemoUsers, cost, cfg.Production())
	if err != nil {
		return nil, err
	}
	backend, cleanup, err := jwtauth.OpenBackend(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: log, backend: backend, cleanup: cleanup, users: users,
		throttle: throttle.New(throttle.Config{MaxWait: loginQueueWait})}
	if s.svc, err = jwtauth.NewService[DemoUser](cfg, backend, users); err != nil {
		cleanup()
		return nil, err
	}
	dpopValidator, err := cfg.DPoPValidator()
	if err != nil {
		cleanup()
		return nil, err
	}
	s.auth, err = echoauth.New(echoauth.Config[DemoUser]{
		Service:        s.svc,
		DPoP:           dpopValidator,
		DPoPRequired:   cfg.DPoP == jwtauth.DPoPRequired,
		TrustedProxies: cfg.TrustedProxies,
		DeviceHeader:   cfg.DeviceHeader,
		CookieSameSite: cfg.CookieSameSite,
		CookieInsecure: !cfg.CookieSecure,
		AllowedOrigins: cfg.AllowedOrigins,
		Logger:         log,
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	if s.http, err = newHTTPMetrics(cfg); err != nil {
		cleanup()
		return nil, err
	}
	s.echo = s.routes()
	return s, nil
}

// routes returns the Echo instance serving the reference HTTP contract.
func (s *server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard) // everything is logged through slog
	e.StdLogger = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	e.HTTPErrorHandler = httpErrorHandler(s.log)
	e.Use(requestLog(s.log, s.http), recoverer(s.log), requestTimeout(s.cfg.RequestTimeout), bodyLimit(maxBodyBytes))

	e.Server.ReadHeaderTimeout = readHeaderTimeout
	e.Server.ReadTimeout = readTimeout
	e.Server.WriteTimeout = max(writeTimeout, s.cfg.RequestTimeout+5*time.Second)
	e.Server.IdleTimeout = idleTimeout
	e.Server.MaxHeaderBytes = maxHeaderBytes

	e.GET("/healthz", s.healthz)
	g := e.Group("/auth")
	s.auth.Mount(g)
	g.POST("/login", s.login)
	g.GET("/me", s.me, s.auth.Middleware())
	s.mountBrowser(e)
	return e
}

// loginRequest is the body of POST /auth/login.
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login serves POST /auth/login: 200 with a token pair, 400 for a bad
// body, 401 invalid_credentials, 403 device_limit_reached, 429 when the
// username or the client IP failed too often.
func (s *server) login(c echo.Context) error {
	var req loginRequest
	if err := echoauth.DecodeJSON(c, &req); err != nil {
		return s.auth.Error(c, err)
	}
	if req.Username == "" || req.Password == "" || len(req.Username) > maxUsernameLen {
		return s.auth.Error(c, fmt.Errorf("%w: username and password are required", domain.ErrInvalidArgument))
	}
	// The failure token is taken before the password is checked, so
	// concurrent guesses from one address check at most its bucket's worth.
	attempt, err := s.throttle.Begin(req.Username, s.auth.Client(c).IP)
	if err != nil {
		tooManyRequests(c, err)
		return nil
	}
	user, ok := s.users.check(req.Username, req.Password)
	if !ok {
		if err := attempt.Fail(); err != nil {
			tooManyRequests(c, err)
			return nil
		}
		return s.auth.Error(c, domain.ErrInvalidCredentials)
	}
	// A correct password from an address in good standing always logs in,
	// so failures against a username can never lock its owner out.
	attempt.Succeed()
	return s.auth.Login(c, user.ID, user)
}

// me serves GET /auth/me: the authenticated user.
func (s *server) me(c echo.Context) error {
	p, ok := echoauth.Principal[DemoUser](c)
	if !ok {
		return s.auth.Error(c, errors.New("me: no principal behind the middleware"))
	}
	return echoauth.WriteJSON(c, http.StatusOK, DemoUser{ID: p.UserID, Username: p.User.Username})
}

// health is the body of GET /healthz.
type health struct {
	Status string `json:"status"` // ok, unavailable
	Store  string `json:"store"`  // ok, down
	Bus    string `json:"bus"`    // ok, down, none (no bus between instances)
	Cache  string `json:"cache"`  // on, bypassed (the bus cannot vouch for it), off
	// Error and Description make a 503 an error of the contract too.
	Error       string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
}

// healthz serves GET /healthz: 200 when the store answers, else 503
// unavailable, with the state of the store, the bus and the cache. It
// answers within healthTimeout even when the database hangs.
func (s *server) healthz(c echo.Context) error {
	h := health{Status: "ok", Store: "ok", Bus: "none", Cache: "off"}
	if _, inProcess := s.backend.Bus.(*memory.Bus); s.backend.Bus != nil && !inProcess {
		h.Bus = "down"
		if s.backend.Bus.Healthy() {
			h.Bus = "ok"
		}
	}
	if s.backend.Cache != nil {
		h.Cache = "on"
		if h.Bus == "down" {
			h.Cache = "bypassed"
		}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), healthTimeout)
	defer cancel()
	pinged := make(chan error, 1) // the ping may outlive the answer
	go func() { pinged <- s.backend.Ping(ctx) }()
	var err error
	select {
	case err = <-pinged:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		return echoauth.WriteJSON(c, http.StatusOK, h)
	}
	s.log.Warn("health check: the store does not answer", "err", err)
	h.Status, h.Store = "unavailable", "down"
	h.Error, h.Description = codeUnavailable, "the store does not answer"
	c.Response().Header().Set("Retry-After", "1")
	return echoauth.WriteJSON(c, http.StatusServiceUnavailable, h)
}

// Serve answers requests on ln until ctx ends, then shuts down gracefully
// (in-flight requests get JWTAUTH_SHUTDOWN_TIMEOUT to finish). It prunes
// ended sessions every JWTAUTH_PRUNE_INTERVAL meanwhile. It returns nil after a clean
// shutdown. Serve does not Close the server.
func (s *server) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info("listening", "addr", "http://"+ln.Addr().String())
	pruneCtx, stopPruner := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.pruneLoop(pruneCtx) })
	defer func() {
		stopPruner()
		wg.Wait()
	}()

	s.echo.Listener = ln
	served := make(chan error, 1)
	go func() { served <- s.echo.Start("") }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.echo.Shutdown(shCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		// Requests still running past the drain time are cut off: the
		// shutdown itself is still clean.
		s.log.Warn("requests still running at the end of the shutdown timeout were cut off", "timeout", s.cfg.ShutdownTimeout)
		err = s.echo.Close()
	}
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// pruneLoop deletes ended sessions and idle throttle buckets every
// JWTAUTH_PRUNE_INTERVAL until ctx ends.
func (s *server) pruneLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.prune(ctx)
		}
	}
}

func (s *server) prune(ctx context.Context) {
	s.throttle.Sweep()
	n, err := s.svc.Prune(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("pruning sessions failed", "err", err)
		}
		return
	}
	s.log.Debug("pruned sessions", "deleted", n)
}

// ServeHTTP serves one request (for in-process tests).
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Close releases the backend: database pools, the invalidation listener
// and the cache. Call it after Serve returned. It waits at most timeout
// (a frozen database can hold a connection's close) and reports whether
// everything was released in time.
func (s *server) Close(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		s.closeOnce.Do(s.cleanup)
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// storeDescription names where state lives, without credentials.
func storeDescription(cfg jwtauth.Config) string {
	if jwtauth.IsPostgresURL(cfg.DatabaseURL) {
		if u, err := url.Parse(cfg.DatabaseURL); err == nil {
			u.RawQuery = ""
			return "postgres " + u.Redacted()
		}
		return "postgres"
	}
	return "sqlite " + filepath.Join(cfg.DataDir, jwtauth.SQLiteFile)
}
