package echoauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

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
	// is the TCP peer. Echo's own IPExtractor and c.RealIP() are not used.
	TrustedProxies []netip.Prefix

	// DeviceHeader is the request header carrying a client-chosen device
	// id; without it the device id is a hash of the User-Agent.
	// Optional. Default value "X-Device-ID".
	DeviceHeader string

	// Skipper defines a function to skip Middleware: the request goes on
	// unauthenticated.
	// Optional. Default value middleware.DefaultSkipper (never skip).
	Skipper middleware.Skipper

	// ErrorHandler is called with every error of Middleware, the routes of
	// Mount, Login and Error, instead of writing the JSON error response.
	// err wraps one of the domain sentinels (domain.ErrMissingToken for a
	// request without a token) or ErrBodyTooLarge; test it with errors.Is,
	// get its status and code from StatusOf, or write the default answer
	// with WriteError. Its return value
	// is returned to Echo: return nil after writing a response, or an
	// error for Echo's HTTPErrorHandler. Middleware never calls the next
	// handler after an error, whatever ErrorHandler returns.
	// Optional. Default: write {"error","error_description"} with the
	// status of the error table (see package doc) and return nil.
	ErrorHandler func(c echo.Context, err error) error

	// SuccessHandler is called by Middleware after a successful
	// authentication, before the next handler; Principal(c) is set.
	// Optional. Default value nil (nothing is called).
	SuccessHandler func(c echo.Context)

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

// Auth is the Echo adapter: middleware, routes and a login helper around
// an app.Service. Create it with New; it is safe for concurrent use.
type Auth[U any] struct {
	cfg Config[U]
	h   web.Handlers[U]
	b   web.Browser
}

// New validates cfg, applies its defaults and returns an Auth. It returns
// an error wrapping domain.ErrInvalidArgument when Service is nil, a
// trusted proxy prefix is invalid or DPoPRequired is set without DPoP.
func New[U any](cfg Config[U]) (*Auth[U], error) {
	h, err := web.NewHandlers("echoauth", cfg.Service, cfg.TrustedProxies, cfg.DeviceHeader,
		web.DPoP{Validator: cfg.DPoP, Required: cfg.DPoPRequired})
	if err != nil {
		return nil, err
	}
	b, err := web.NewBrowser("echoauth", web.BrowserConfig{
		Cookies:        web.CookieConfig{SameSite: cfg.CookieSameSite, Insecure: cfg.CookieInsecure},
		AllowedOrigins: cfg.AllowedOrigins,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Skipper == nil {
		cfg.Skipper = middleware.DefaultSkipper
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Auth[U]{cfg: cfg, h: h, b: b}, nil
}

// Middleware returns middleware that authenticates the request's access
// token — from "Authorization: Bearer", or without an Authorization
// header from the jwtauth_access cookie — for the request's client (IP and
// device), stores the principal in the echo.Context (see Principal) and in
// the request's context (see FromContext), and calls the next handler. A
// missing or rejected token is answered 401 (503 when the service cannot
// tell) without calling the next handler. An unsafe request (POST, PUT,
// PATCH, DELETE) that carries a jwtauth cookie must pass the cross-origin
// check first (see CrossOrigin): else 403 cross_origin.
func (a *Auth[U]) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if a.cfg.Skipper(c) {
				return next(c)
			}
			r := c.Request()
			if err := a.b.CheckOrigin(r, false); err != nil {
				return a.Error(c, err)
			}
			p, err := a.h.Authenticate(r)
			if err != nil {
				return a.Error(c, err)
			}
			// The request's context only: Principal reads it, and so do
			// net/http handlers wrapped in Echo; a c.Set as well would cost
			// Echo's per-request store map.
			c.SetRequest(r.WithContext(web.NewContext(r.Context(), p)))
			if a.cfg.SuccessHandler != nil {
				a.cfg.SuccessHandler(c)
			}
			return next(c)
		}
	}
}

// Principal returns the principal Middleware stored in c. It reports false
// on a request that did not pass Middleware (or was skipped), or when U is
// not the Auth's user-claims type.
func Principal[U any](c echo.Context) (app.Principal[U], bool) {
	return FromContext[U](c.Request().Context())
}

// FromContext returns the principal Middleware stored in a request's
// context, for code that only sees a context.Context. The httpauth adapter
// shares the context key, so either package's FromContext finds it.
func FromContext[U any](ctx context.Context) (app.Principal[U], bool) {
	return web.FromContext[U](ctx)
}

// Mount registers the auth routes on g (typically e.Group("/auth")):
//
//	POST   /refresh        {"refresh_token"} → 200 {"access_token","token_type","expires_in"[,"refresh_token","refresh_expires_in"]}
//	POST   /verify         {"token"}         → 200 {"valid":true,"token_type"} | 401 {"valid":false,"error"}
//	POST   /logout         Bearer            → 204, ends this session
//	POST   /logout/all     Bearer            → 204, ends every session of the user
//	POST   /logout/others  Bearer            → 204, ends every other session
//	GET    /sessions       Bearer            → 200 [{"id","device_name","ip","created_at","last_seen_at","current"}]
//	DELETE /sessions/:id   Bearer            → 204 | 404
//
// Login is not mounted: the application checks credentials in its own
// handler and then calls Login.
func (a *Auth[U]) Mount(g *echo.Group) {
	auth := a.Middleware()
	g.POST("/refresh", a.public(a.h.Refresh))
	g.POST("/verify", a.public(a.h.Verify))
	g.POST("/logout", a.private(a.h.Logout), auth)
	g.POST("/logout/all", a.private(a.h.LogoutAll), auth)
	g.POST("/logout/others", a.private(a.h.LogoutOthers), auth)
	g.GET("/sessions", a.private(a.h.Sessions), auth)
	g.DELETE("/sessions/:id", func(c echo.Context) error {
		return a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
			return a.h.RevokeSession(w, r, p, c.Param("id"))
		})(c)
	}, auth)
}

// Login is for the application's own login handler, after it checked the
// user's credentials: it issues a token pair for userID with user claims
// user, bound to the request's client, and writes the 200 login body
// {"access_token","refresh_token","token_type","expires_in",
// "refresh_expires_in","session_id"}, or the mapped error (403
// device_limit_reached, 503 unavailable, ...).
//
// Called from the login handler given to MountBrowser, it answers the
// browser way instead: cookies set, and a body without tokens (see
// MountBrowser).
func (a *Auth[U]) Login(c echo.Context, userID string, user U) error {
	login := a.h.Login
	if web.IsBrowserLogin(c.Request().Context()) {
		login = func(w http.ResponseWriter, r *http.Request, userID string, user U) error {
			return a.h.BrowserLogin(w, r, a.b, userID, user)
		}
	}
	if err := login(c.Response(), c.Request(), userID, user); err != nil {
		return a.Error(c, err)
	}
	return nil
}

// Client returns the client of c's request as the tokens see it: the IP
// (peer, or X-Forwarded-For past trusted proxies), the device id and the
// device name.
func (a *Auth[U]) Client(c echo.Context) domain.ClientInfo {
	return a.h.Resolver.Resolve(c.Request())
}

// Error answers err the way Auth answers its own errors: through
// Config.ErrorHandler when set, else as the JSON error body of the error
// table, and returns what Echo should see (nil by default). Use it in the
// application's login handler, e.g. Error(c, domain.ErrInvalidCredentials)
// for a wrong password.
func (a *Auth[U]) Error(c echo.Context, err error) error {
	if a.cfg.ErrorHandler != nil {
		return a.cfg.ErrorHandler(c, err)
	}
	web.WriteError(c.Response(), c.Request(), a.cfg.Logger, err)
	return nil
}

// LoginResponse is the 200 body Login writes: {"access_token",
// "refresh_token","token_type","expires_in","refresh_expires_in",
// "session_id"}, for clients and tests that decode it. httpauth and
// echoauth share the type.
type LoginResponse = web.LoginResponse

// Errors of the transport, beside the domain sentinels (a request without
// a token is domain.ErrMissingToken). Check them with errors.Is. Unknown
// routes and methods are Echo's own (its HTTPErrorHandler answers them).
var (
	// ErrBodyTooLarge: the request body exceeds 64 KiB (413
	// invalid_request). It wraps domain.ErrInvalidArgument.
	ErrBodyTooLarge = web.ErrBodyTooLarge
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
// the error's text, and returns nil. A custom Config.ErrorHandler can call
// it to keep the default answer after its own work (logging, metrics).
func WriteError(c echo.Context, err error) error {
	web.WriteError(c.Response(), c.Request(), nil, err)
	return nil
}

// DecodeJSON decodes c's JSON request body into v (a pointer to a struct)
// strictly: Content-Type application/json only (otherwise an error
// answered 415 unsupported_media_type), at most 64 KiB (larger: 413), one
// object, valid UTF-8, no duplicate keys (compared as encoding/json
// matches names, so "uſername" duplicates "username"), no trailing data,
// matching types. Failures wrap domain.ErrInvalidArgument (400
// invalid_request, unless said otherwise) and never quote the body.
// Unknown fields are ignored.
func DecodeJSON(c echo.Context, v any) error {
	return web.DecodeJSON(c.Response(), c.Request(), v)
}

// WriteJSON writes v as a JSON response with status and the headers every
// jwtauth response carries (Content-Type application/json, Cache-Control
// no-store, Pragma no-cache, X-Content-Type-Options nosniff), for the
// application's own routes beside the adapter's. v must encode with
// encoding/json; if it does not, a 503 unavailable error body is written
// instead (never a 500). It returns nil.
func WriteJSON(c echo.Context, status int, v any) error {
	web.WriteJSON(c.Response(), status, v)
	return nil
}

// public adapts a route of web.Handlers that needs no principal.
func (a *Auth[U]) public(fn func(http.ResponseWriter, *http.Request) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.b.CheckOrigin(c.Request(), false); err != nil {
			return a.Error(c, err)
		}
		if err := fn(c.Response(), c.Request()); err != nil {
			return a.Error(c, err)
		}
		return nil
	}
}

// private adapts a route of web.Handlers that runs behind Middleware.
func (a *Auth[U]) private(fn func(http.ResponseWriter, *http.Request, app.Principal[U]) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, ok := Principal[U](c)
		if !ok {
			// Only reachable if a Skipper skipped an auth route.
			return a.Error(c, domain.ErrMissingToken)
		}
		if err := fn(c.Response(), c.Request(), p); err != nil {
			return a.Error(c, err)
		}
		return nil
	}
}
