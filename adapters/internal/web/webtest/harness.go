package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
	"github.com/jwtauth/jwtauth/ports"
)

// User is the user-claims type of the suite.
type User struct {
	Name string `json:"name"`
}

// Backend is the outside world of the Service under test (see
// MemoryBackend).
type Backend struct {
	Store  ports.Store
	Codec  ports.TokenCodec
	Cipher ports.Cipher
	Cache  ports.Cache
	Bus    ports.Bus
}

// Env is what a Driver receives.
type Env struct {
	// Service is the service to mount.
	Service *app.Service[User]
	// TrustedProxies must be passed to the adapter's Config.
	TrustedProxies []netip.Prefix
	// DPoP must be passed to the adapter's Config (DPoP, DPoPRequired).
	DPoP web.DPoP
}

// Driver returns the handler of one adapter with these routes:
//
//	POST /auth/login  decode LoginRequest with the adapter's DecodeJSON,
//	                  CheckLogin, then the adapter's Login; errors through
//	                  the adapter's Error
//	GET  /me          behind the adapter's Middleware: 200 with Me built
//	                  from the principal
//	/auth/...         the adapter's routes (Mount or Handler)
//	/auth/browser/... the adapter's browser group (MountBrowser or
//	                  BrowserHandler) with the same login handler
type Driver func(t *testing.T, env Env) http.Handler

// LoginRequest is the body of the suite's login route.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Me is the body of the suite's protected route.
type Me struct {
	UserID    string `json:"user_id"`
	SessionID string `json:"session_id"`
	Name      string `json:"name"`
	// InContext: the principal was found in the request's context too.
	InContext bool `json:"in_context"`
}

// CheckLogin is the suite's credential check: the password of user NAME is
// "pw-NAME"; the user id is "id-NAME".
func CheckLogin(req LoginRequest) (userID string, user User, err error) {
	if req.Username == "" || req.Password != "pw-"+req.Username {
		return "", User{}, domain.ErrInvalidCredentials
	}
	return "id-" + req.Username, User{Name: req.Username}, nil
}

// NewMe returns the Me of a principal.
func NewMe(p app.Principal[User], inContext bool) Me {
	return Me{UserID: p.UserID, SessionID: p.SessionID, Name: p.User.Name, InContext: inContext}
}

// Store is a ports.Store stub: a non-nil function field replaces its
// method, a nil one calls the embedded Store.
type Store struct {
	ports.Store
	GenerationFunc func(ctx context.Context, userID string, typ domain.TokenType) (string, error)
	SessionFunc    func(ctx context.Context, sessionID string) (domain.Session, error)
	SessionsFunc   func(ctx context.Context, userID string) ([]domain.Session, error)
	UpdateUserFunc func(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error
}

var _ ports.Store = (*Store)(nil)

// Generation implements ports.Store.
func (s *Store) Generation(ctx context.Context, userID string, typ domain.TokenType) (string, error) {
	if s.GenerationFunc != nil {
		return s.GenerationFunc(ctx, userID, typ)
	}
	return s.Store.Generation(ctx, userID, typ)
}

// Session implements ports.Store.
func (s *Store) Session(ctx context.Context, sessionID string) (domain.Session, error) {
	if s.SessionFunc != nil {
		return s.SessionFunc(ctx, sessionID)
	}
	return s.Store.Session(ctx, sessionID)
}

// Sessions implements ports.Store.
func (s *Store) Sessions(ctx context.Context, userID string) ([]domain.Session, error) {
	if s.SessionsFunc != nil {
		return s.SessionsFunc(ctx, userID)
	}
	return s.Store.Sessions(ctx, userID)
}

// UpdateUser implements ports.Store.
func (s *Store) UpdateUser(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	if s.UpdateUserFunc != nil {
		return s.UpdateUserFunc(ctx, userID, fn)
	}
	return s.Store.UpdateUser(ctx, userID, fn)
}

// switchable returns a stub of inner that fails every call with
// domain.ErrUnavailable while down is set.
func switchable(inner ports.Store, down *atomic.Bool) *Store {
	errDown := errors.New("webtest: store is down")
	fail := func() error { return errors.Join(domain.ErrUnavailable, errDown) }
	return &Store{
		Store: inner,
		GenerationFunc: func(ctx context.Context, userID string, typ domain.TokenType) (string, error) {
			if down.Load() {
				return "", fail()
			}
			return inner.Generation(ctx, userID, typ)
		},
		SessionFunc: func(ctx context.Context, sessionID string) (domain.Session, error) {
			if down.Load() {
				return domain.Session{}, fail()
			}
			return inner.Session(ctx, sessionID)
		},
		SessionsFunc: func(ctx context.Context, userID string) ([]domain.Session, error) {
			if down.Load() {
				return nil, fail()
			}
			return inner.Sessions(ctx, userID)
		},
		UpdateUserFunc: func(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
			if down.Load() {
				return fail()
			}
			return inner.UpdateUser(ctx, userID, fn)
		},
	}
}

// Client is who sends a request.
type Client struct {
	// From is the source IP of the TCP connection (any 127/8 address on
	// Linux). Default "127.0.0.1".
	From string
	// Device is sent as X-Device-ID when not empty.
	Device string
	// UA is the User-Agent. Default "webtest/1.0".
	UA string
	// XFF is sent as X-Forwarded-For when not empty.
	XFF string
}

// Req is one request of a case.
type Req struct {
	Client
	Method string
	Path   string
	// Token is sent as "Authorization: Bearer <Token>" when not empty.
	Token string
	// JSON, when not nil, is encoded as the body; else Body is sent raw.
	JSON any
	Body string
	// Header is added last; it may override Authorization.
	Header http.Header
}

// Resp is a response, read whole.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// Object decodes the body as a JSON object.
func (r Resp) Object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %q", r.Body)
	return m
}

// H drives one server under test.
type H struct {
	URL  string
	down *atomic.Bool

	mu      sync.Mutex
	clients map[string]*http.Client
}

// SetStoreDown makes every store call fail with domain.ErrUnavailable
// (true) or work again (false).
func (h *H) SetStoreDown(down bool) { h.down.Store(down) }

func (h *H) client(t *testing.T, from string) *http.Client {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.clients[from]; ok {
		return c
	}
	ip := net.ParseIP(from)
	require.NotNil(t, ip, "bad From %q", from)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
	tr := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	h.clients[from] = c
	return c
}

// Do sends r and returns the response. It fails the test on a 500 or
// any 5xx but 503, and checks the invariants every response keeps: a 401
// has a Bearer challenge, a 503 a Retry-After, a JSON body no-store.
func (h *H) Do(t *testing.T, r Req) Resp {
	t.Helper()
	if r.From == "" {
		r.From = "127.0.0.1"
	}
	if r.UA == "" {
		r.UA = "webtest/1.0"
	}
	var body io.Reader
	switch {
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		require.NoError(t, err)
		body = bytes.NewReader(b)
	case r.Body != "":
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(t.Context(), r.Method, h.URL+r.Path, body)
	require.NoError(t, err)
	if body != nil || r.Method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", r.UA)
	if r.Device != "" {
		req.Header.Set("X-Device-ID", r.Device)
	}
	if r.XFF != "" {
		req.Header.Set("X-Forwarded-For", r.XFF)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, vs := range r.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := h.client(t, r.From).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	resp := Resp{Status: res.StatusCode, Header: res.Header, Body: b}

	require.NotEqual(t, http.StatusInternalServerError, resp.Status, "%s %s: 500, body %q", r.Method, r.Path, b)
	if resp.Status >= 500 {
		require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s %s: body %q", r.Method, r.Path, b)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"), "503 without Retry-After")
	}
	if resp.Status == http.StatusUnauthorized {
		ch := resp.Header.Get("WWW-Authenticate")
		assert.True(t, strings.HasPrefix(ch, "Bearer ") || strings.HasPrefix(ch, "DPoP "),
			"%s %s: 401 without a Bearer or DPoP challenge", r.Method, r.Path)
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && r.Path != MePath {
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "%s %s: JSON without no-store", r.Method, r.Path)
	}
	return resp
}

// Paths of the suite's own routes.
const (
	LoginPath = "/auth/login"
	MePath    = "/me"
)

// LoginAs logs user in (password "pw-"+user) as c and returns the login
// body; it fails the test unless the status is 200.
func (h *H) LoginAs(t *testing.T, user string, c Client) web.LoginResponse {
	t.Helper()
	res := h.Do(t, Req{Client: c, Method: http.MethodPost, Path: LoginPath,
		JSON: LoginRequest{Username: user, Password: "pw-" + user}})
	require.Equal(t, http.StatusOK, res.Status, "login: %s", res.Body)
	var lr web.LoginResponse
	require.NoError(t, json.Unmarshal(res.Body, &lr))
	require.NotEmpty(t, lr.AccessToken)
	require.NotEmpty(t, lr.RefreshToken)
	return lr
}

// Me calls the protected route with token as c.
func (h *H) Me(t *testing.T, token string, c Client) Resp {
	t.Helper()
	return h.Do(t, Req{Client: c, Method: http.MethodGet, Path: MePath, Token: token})
}

// Post sends a JSON body to path as c, with token as bearer when not empty.
func (h *H) Post(t *testing.T, path, token string, body any, c Client) Resp {
	t.Helper()
	return h.Do(t, Req{Client: c, Method: http.MethodPost, Path: path, Token: token, JSON: body})
}

// WantError asserts res is the JSON error status/code with the table's
// fixed description.
func WantError(t *testing.T, res Resp, status int, code string) {
	t.Helper()
	require.Equal(t, status, res.Status, "body %s", res.Body)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(res.Body, &body), "body %q", res.Body)
	assert.Len(t, body, 2, "error body %s", res.Body)
	assert.Equal(t, code, body["error"], "body %s", res.Body)
	desc, _ := body["error_description"].(string)
	assert.NotEmpty(t, desc)
	assert.True(t, fixedDescriptions[desc], "description %q is not one of the table's", desc)
}

// fixedDescriptions are every description of the error table.
var fixedDescriptions = func() map[string]bool {
	m := map[string]bool{}
	for _, err := range []error{
		domain.ErrMissingToken, web.ErrBodyTooLarge, web.ErrCrossOrigin, web.ErrUnsupportedMediaType, domain.ErrUnavailable, domain.ErrMalformed,
		domain.ErrInvalid, domain.ErrExpired, domain.ErrRevoked, domain.ErrWrongTokenType,
		domain.ErrClientMismatch, domain.ErrRefreshReused, domain.ErrInvalidCredentials,
		domain.ErrDeviceLimitReached, domain.ErrSessionNotFound, domain.ErrInvalidArgument,
		web.ErrRouteNotFound, web.ErrMethodNotAllowed, errors.New("unknown"),
		dpop.ErrInvalidProof, dpop.ErrUseNonce, domain.ErrKeyMismatch,
	} {
		m[web.Classify(err).Description] = true
	}
	return m
}()

// Run runs every case against the adapter built by driver, each on its own
// real server (httptest, bound to 127.0.0.1) and service.
func Run(t *testing.T, newBackend func(t testing.TB) Backend, driver Driver) {
	for _, c := range slices.Concat(Cases(), browserCases(), dpopCases()) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			down := &atomic.Bool{}
			var cfg app.Config
			if c.Config != nil {
				c.Config(&cfg)
			}
			svc, err := app.New(cfg, app.Deps[User]{
				Store:  switchable(b.Store, down),
				Codec:  b.Codec,
				Cipher: b.Cipher,
				Cache:  b.Cache,
				Bus:    b.Bus,
				Users: ports.UserLoaderFunc[User](func(_ context.Context, id string) (User, error) {
					name, ok := strings.CutPrefix(id, "id-")
					if !ok {
						return User{}, domain.ErrRevoked
					}
					return User{Name: name}, nil
				}),
			})
			require.NoError(t, err)
			trusted, err := web.ParseTrustedProxies(c.Trusted)
			require.NoError(t, err)
			env := Env{Service: svc, TrustedProxies: trusted}
			if c.DPoP != nil {
				v, err := dpop.New(*c.DPoP)
				require.NoError(t, err)
				env.DPoP = web.DPoP{Validator: v, Required: c.DPoPRequired}
			}
			srv := httptest.NewServer(driver(t, env))
			t.Cleanup(srv.Close)
			c.Run(t, &H{URL: srv.URL, down: down, clients: map[string]*http.Client{}})
		})
	}
}
