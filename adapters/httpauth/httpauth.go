package httpauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
)

// Config configures Auth. Only Service is required.
type Config[U any] struct {
	// Service issues and checks the tokens.
	// Required.
	Service *app.Service[U]

	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// is believed when resolving the client IP tokens are bound to; it is
	// walked right to left past these hops.
	// Optional. Default none: X-Forwarded-For is ignored and the client IP
	// is the TCP peer (http.Request.RemoteAddr).
	TrustedProxies []netip.Prefix

	// DeviceHeader is the request header carrying a client-chosen device
	// id; without it the device id is a hash of the User-Agent.
	// Optional. Default value "X-Device-ID".
	DeviceHeader string

	// Skipper reports whether Middleware lets a request through
	// unauthenticated.
	// Optional. Default value nil (never skip).
	Skipper func(r *http.Request) bool

	// ErrorHandler is called with every error of Middleware, the routes of
	// Handler, Login and Error, instead of writing the JSON error response;
	// it must write the response. err wraps one of the domain sentinels
	// (domain.ErrMissingToken for a request without a token) or one of
	// ErrBodyTooLarge, ErrRouteNotFound, ErrMethodNotAllowed; test it with
	// errors.Is, get its status and code from StatusOf, or write the
	// default answer with WriteError. Middleware never calls the next
	// handler after an error.
	// Optional. Default: write {"error","error_description"} with the
	// status of the error table (see package doc), i.e. WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// CookieSameSite is the SameSite attribute of the browser group's
	// cookies: http.SameSiteLaxMode or http.SameSiteStrictMode (None is
	// refused: it would send them cross-site).
	// Optional. Default value http.SameSiteLaxMode.
	CookieSameSite http.SameSite

	// CookieInsecure drops the Secure attribute of the browser group's
	// cookies, for plain-HTTP deployments on hosts other than localhost
	// and 127.0.0.1 (which browsers treat as secure).
	// Optional. Default value false (Secure).
	CookieInsecure bool

	// DPoP turns on sender-constrained tokens (RFC 9449; see package
	// dpop and docs/dpop.md): a login or refresh carrying a valid DPoP
	// proof binds the session and its tokens to the proof's key
	// (token_type "DPoP"), and a bound access token is accepted only as
	// "Authorization: DPoP <token>" with a proof by that key. Proof
	// errors are 401 invalid_dpop_proof or use_dpop_nonce with a
	// WWW-Authenticate: DPoP challenge (400 on login and refresh).
	// Optional. Default nil: off (the DPoP scheme is unknown, DPoP
	// headers are ignored).
	DPoP *dpop.Validator

	// DPoPRequired refuses logins, refreshes and authenticated requests
	// without a valid proof, and browser-group logins (their cookies
	// cannot be bound). Only with DPoP.
	// Optional. Default false.
	DPoPRequired bool

	// AllowedOrigins are origins ("https://app.example.com") whose
	// cross-origin requests pass the CSRF check besides same-origin ones.
	// Optional. Default none.
	AllowedOrigins []string

	// Logger receives errors that are logged: unknown errors (answered
	// 503) at error level, domain.ErrUnavailable at warn level. Tokens and
	// bodies are never logged.
	// Optional. Default value slog.Default().
	Logger *slog.Logger
}

// Auth is the net/http adapter: middleware, routes and a login helper
// around an app.Service. Create it with New; it is safe for concurrent
// use.
type Auth[U any] struct {
	cfg Config[U]
	h   web.Handlers[U]
	mux http.Handler
	b   web.Browser
}

// New validates cfg, applies its defaults and returns an Auth. It returns
// an error wrapping domain.ErrInvalidArgument when Service is nil, a
// trusted proxy prefix is invalid or DPoPRequired is set without DPoP.
func New[U any](cfg Config[U]) (*Auth[U], error) {
	h, err := web.NewHandlers("httpauth", cfg.Service, cfg.TrustedProxies, cfg.DeviceHeader,
		web.DPoP{Validator: cfg.DPoP, Required: cfg.DPoPRequired})
	if err != nil {
		return nil, err
	}
	b, err := web.NewBrowser("httpauth", web.BrowserConfig{
		Cookies:        web.CookieConfig{SameSite: cfg.CookieSameSite, Insecure: cfg.CookieInsecure},
		AllowedOrigins: cfg.AllowedOrigins,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Auth[U]{cfg: cfg, h: h, b: b}
	a.mux = a.routes()
	return a, nil
}

// Middleware authenticates the request's access token — from
// "Authorization: Bearer", or without an Authorization header from the
// jwtauth_access cookie — for the request's client (IP and device), stores
// the principal in the request's context (see FromContext) and calls next.
// A missing or rejected token is answered 401 (503 when the service cannot
// tell) without calling next. An unsafe request (POST, PUT, PATCH, DELETE)
// that carries a jwtauth cookie must pass the cross-origin check first
// (see CrossOrigin): else 403 cross_origin. Its shape,
// func(http.Handler) http.Handler, fits chi's Use, gorilla/mux's Use and
// plain wrapping.
func (a *Auth[U]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Skipper != nil && a.cfg.Skipper(r) {
			next.ServeHTTP(w, r)
			return
		}
		if err := a.b.CheckOrigin(r, false); err != nil {
			a.Error(w, r, err)
			return
		}
		p, err := a.h.Authenticate(r)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(web.NewContext(r.Context(), p)))
	})
}

// FromContext returns the principal Middleware stored in ctx (use
// r.Context()). It reports false on a request that did not pass Middleware
// (or was skipped), or when U is not the Auth's user-claims type. The echo
// adapter shares the context key.
func FromContext[U any](ctx context.Context) (app.Principal[U], bool) {
	return web.FromContext[U](ctx)
}

// Handler returns the auth routes:
//
//	POST   /refresh        {"refresh_token"} → 200 {"access_token","token_type","expires_in"[,"refresh_token","refresh_expires_in"]}
//	POST   /verify         {"token"}         → 200 {"valid":true,"token_type"} | 401 {"valid":false,"error"}
//	POST   /logout         Bearer            → 204, ends this session
//	POST   /logout/all     Bearer            → 204, ends every session of the user
//	POST   /logout/others  Bearer            → 204, ends every other session
//	GET    /sessions       Bearer            → 200 [{"id","device_name","ip","created_at","last_seen_at","current"}]
//	DELETE /sessions/{id}  Bearer            → 204 | 404
//
// A route is matched by the last path segments of the request, whatever
// comes before them, so the handler works wherever a router mounts it,
// whether or not the router strips the mount prefix:
//
//	chi:           r.Mount("/auth", auth.Handler())
//	gorilla/mux:   r.PathPrefix("/auth/").Handler(http.StripPrefix("/auth", auth.Handler()))
//	http.ServeMux: mux.Handle("/auth/", auth.Handler())
//	Echo:          e.Group("/auth").Any("/*", echo.WrapHandler(auth.Handler()))
//
// Paths matching no route are answered 404 not_found, a route's path with
// another method 405 invalid_request (with Allow), both as JSON error
// bodies. Login is not among the routes: the application checks
// credentials in its own handler and then calls Login.
func (a *Auth[U]) Handler() http.Handler { return a.mux }

// route is one auth route: its method and last path segments ("*"
// matches one non-empty segment, passed to serve).
type route struct {
	method string
	path   []string
	serve  func(w http.ResponseWriter, r *http.Request, param string)
}

// match reports whether segs ends with the route's path, and the segment
// matching "*".
func (rt route) match(segs []string) (param string, ok bool) {
	if len(segs) < len(rt.path) {
		return "", false
	}
	tail := segs[len(segs)-len(rt.path):]
	for i, want := range rt.path {
		switch {
		case want == "*" && tail[i] != "":
			param = tail[i]
		case want != tail[i]:
			return "", false
		}
	}
	return param, true
}

// router serves the routes by the request path's last segments: the
// longest route path that matches decides; with another method it is 405.
type router struct {
	routes []route
	fail   func(w http.ResponseWriter, r *http.Request, err error)
	// not is a segment that may not stand just before a route's path:
	// "browser" for Handler, so that /auth/browser/logout never ends a
	// session the Bearer way (leaving the browser's cookies set) when the
	// browser group is not mounted, or mounted after it.
	not string
}

func (rr router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	longest := 0
	var allow []string
	for _, rt := range rr.routes {
		if len(rt.path) < longest {
			break // routes are sorted longest path first
		}
		param, ok := rt.match(segs)
		if !ok || (rr.not != "" && len(segs) > len(rt.path) && segs[len(segs)-len(rt.path)-1] == rr.not) {
			continue
		}
		longest = len(rt.path)
		if rt.method == r.Method {
			rt.serve(w, r, param)
			return
		}
		allow = append(allow, rt.method)
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		rr.fail(w, r, web.ErrMethodNotAllowed)
		return
	}
	rr.fail(w, r, web.ErrRouteNotFound)
}

// plain is a route's serve function for a handler without a path
// parameter.
func plain(fn http.HandlerFunc) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, _ string) { fn(w, r) }
}

func (a *Auth[U]) routes() http.Handler {
	revoke := func(w http.ResponseWriter, r *http.Request, id string) {
		a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
			return a.h.RevokeSession(w, r, p, id)
		}).ServeHTTP(w, r)
	}
	return router{fail: a.Error, not: "browser", routes: []route{
		{http.MethodPost, []string{"logout", "all"}, plain(a.private(a.h.LogoutAll).ServeHTTP)},
		{http.MethodPost, []string{"logout", "others"}, plain(a.private(a.h.LogoutOthers).ServeHTTP)},
		{http.MethodDelete, []string{"sessions", "*"}, revoke},
		{http.MethodPost, []string{"refresh"}, plain(a.public(a.h.Refresh))},
		{http.MethodPost, []string{"verify"}, plain(a.public(a.h.Verify))},
		{http.MethodPost, []string{"logout"}, plain(a.private(a.h.Logout).ServeHTTP)},
		{http.MethodGet, []string{"sessions"}, plain(a.private(a.h.Sessions).ServeHTTP)},
	}}
}

// Login is for the application's own login handler, after it checked the
// user's credentials: it issues a token pair for userID with user claims
// user, bound to r's client, and writes the 200 login body
// {"access_token","refresh_token","token_type","expires_in",
// "refresh_expires_in","session_id"}, or the mapped error (403
// device_limit_reached, 503 unavailable, ...).
//
// Called from the login handler given to BrowserHandler, it answers the
// browser way instead: cookies set, and a body without tokens (see
// BrowserHandler).
func (a *Auth[U]) Login(w http.ResponseWriter, r *http.Request, userID string, user U) {
	var err error
	if web.IsBrowserLogin(r.Context()) {
		err = a.h.BrowserLogin(w, r, a.b, userID, user)
	} else {
		err = a.h.Login(w, r, userID, user)
	}
	if err != nil {
		a.Error(w, r, err)
	}
}

// Client returns the client of r as the tokens see it: the IP (peer, or
// X-Forwarded-For past trusted proxies), the device id and the device
// name.
func (a *Auth[U]) Client(r *http.Request) domain.ClientInfo {
	return a.h.Resolver.Resolve(r)
}

// Error answers err the way Auth answers its own errors: through
// Config.ErrorHandler when set, else as the JSON error body of the error
// table. Use it in the application's login handler, e.g.
// Error(w, r, domain.ErrInvalidCredentials) for a wrong password.
func (a *Auth[U]) Error(w http.ResponseWriter, r *http.Request, err error) {
	if a.cfg.ErrorHandler != nil {
		a.cfg.ErrorHandler(w, r, err)
		return
	}
	web.WriteError(w, r, a.cfg.Logger, err)
}

// LoginResponse is the 200 body Login writes: {"access_token",
// "refresh_token","token_type","expires_in","refresh_expires_in",
// "session_id"}, for clients and tests that decode it. httpauth and
// echoauth share the type.
type LoginResponse = web.LoginResponse

// Errors of the transport, beside the domain sentinels (a request without
// a token is domain.ErrMissingToken). Check them with errors.Is.
var (
	// ErrBodyTooLarge: the request body exceeds 64 KiB (413
	// invalid_request). It wraps domain.ErrInvalidArgument.
	ErrBodyTooLarge = web.ErrBodyTooLarge
	// ErrRouteNotFound: no auth route has the request's path (404 not_found).
	ErrRouteNotFound = web.ErrRouteNotFound
	// ErrMethodNotAllowed: an auth route has the path but another method
	// (405 invalid_request).
	ErrMethodNotAllowed = web.ErrMethodNotAllowed
	// ErrUnsupportedMediaType: a JSON endpoint got a Content-Type other
	// than application/json (415 unsupported_media_type). It wraps
	// domain.ErrInvalidArgument.
	ErrUnsupportedMediaType = web.ErrUnsupportedMediaType
	// ErrCrossOrigin: a cross-origin browser-group request, or an unsafe
	// one carrying a jwtauth cookie (403 cross_origin).
	ErrCrossOrigin = web.ErrCrossOrigin
)

// StatusOf returns the HTTP status and the "error" code the adapter
// answers err with (see the error table in the package doc), for a custom
// Config.ErrorHandler: 401 invalid_token for domain.ErrMissingToken,
// domain.ErrMalformed and domain.ErrInvalid, 401 token_expired for
// domain.ErrExpired, ..., and 503 unavailable for domain.ErrUnavailable
// and every error matching no entry (fail closed, never 500).
func StatusOf(err error) (status int, code string) { return web.StatusOf(err) }

// WriteError writes err as the default JSON error response of the error
// table: the status and code of StatusOf, a fixed description, and the
// WWW-Authenticate challenge on 401 or Retry-After on 503. It never writes
// the error's text. A custom Config.ErrorHandler can call it to keep the
// default answer after its own work (logging, metrics).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	web.WriteError(w, r, nil, err)
}

// DecodeJSON decodes r's JSON body into v (a pointer to a struct)
// strictly: Content-Type application/json only (otherwise an error
// answered 415 unsupported_media_type), at most 64 KiB (larger: 413), one
// object, valid UTF-8, no duplicate keys (compared as encoding/json
// matches names, so "uſername" duplicates "username"), no trailing data,
// matching types. Failures wrap domain.ErrInvalidArgument (400
// invalid_request, unless said otherwise) and never quote the body.
// Unknown fields are ignored.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return web.DecodeJSON(w, r, v)
}

// public adapts a route of web.Handlers that needs no principal.
func (a *Auth[U]) public(fn func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.b.CheckOrigin(r, false); err != nil {
			a.Error(w, r, err)
			return
		}
		if err := fn(w, r); err != nil {
			a.Error(w, r, err)
		}
	}
}

// private adapts a route of web.Handlers and puts it behind Middleware.
func (a *Auth[U]) private(fn func(http.ResponseWriter, *http.Request, app.Principal[U]) error) http.Handler {
	return a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := FromContext[U](r.Context())
		if !ok {
			// Only reachable if the Skipper skipped an auth route.
			a.Error(w, r, domain.ErrMissingToken)
			return
		}
		if err := fn(w, r, p); err != nil {
			a.Error(w, r, err)
		}
	}))
}
