package httpauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
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
	// (or web's missing-credentials and body-too-large errors); test it
	// with errors.Is. Middleware never calls the next handler after an
	// error.
	// Optional. Default: write {"error","error_description"} with the
	// status of the error table (see package doc).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

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
	mux *http.ServeMux
}

// New validates cfg, applies its defaults and returns an Auth. It returns
// an error wrapping domain.ErrInvalidArgument when Service is nil or a
// trusted proxy prefix is invalid.
func New[U any](cfg Config[U]) (*Auth[U], error) {
	h, err := web.NewHandlers("httpauth", cfg.Service, cfg.TrustedProxies, cfg.DeviceHeader)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Auth[U]{cfg: cfg, h: h}
	a.mux = a.routes()
	return a, nil
}

// Middleware authenticates the request's "Authorization: Bearer" access
// token for the request's client (IP and device), stores the principal in
// the request's context (see FromContext) and calls next. A missing or
// rejected token is answered 401 (503 when the service cannot tell)
// without calling next. Its shape, func(http.Handler) http.Handler, fits
// chi's Use, gorilla/mux's Use and plain wrapping.
func (a *Auth[U]) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Skipper != nil && a.cfg.Skipper(r) {
			next.ServeHTTP(w, r)
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

// Handler returns the auth routes, with paths relative to where it is
// mounted:
//
//	POST   /refresh        {"refresh_token"} → 200 {"access_token","token_type","expires_in"[,"refresh_token","refresh_expires_in"]}
//	POST   /verify         {"token"}         → 200 {"valid":true,"token_type"} | 401 {"valid":false,"error"}
//	POST   /logout         Bearer            → 204, ends this session
//	POST   /logout/all     Bearer            → 204, ends every session of the user
//	POST   /logout/others  Bearer            → 204, ends every other session
//	GET    /sessions       Bearer            → 200 [{"id","device_name","ip","created_at","last_seen_at","current"}]
//	DELETE /sessions/{id}  Bearer            → 204 | 404
//
// Mount it under a prefix with http.StripPrefix, e.g.
// mux.Handle("/auth/", http.StripPrefix("/auth", auth.Handler())), or
// chi's r.Mount("/auth", auth.Handler()). Unknown paths and methods get
// http.ServeMux's plain 404 and 405. Login is not among the routes: the
// application checks credentials in its own handler and then calls Login.
func (a *Auth[U]) Handler() http.Handler { return a.mux }

func (a *Auth[U]) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /refresh", a.public(a.h.Refresh))
	mux.HandleFunc("POST /verify", a.public(a.h.Verify))
	mux.Handle("POST /logout", a.private(a.h.Logout))
	mux.Handle("POST /logout/all", a.private(a.h.LogoutAll))
	mux.Handle("POST /logout/others", a.private(a.h.LogoutOthers))
	mux.Handle("GET /sessions", a.private(a.h.Sessions))
	mux.Handle("DELETE /sessions/{id}", a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
		return a.h.RevokeSession(w, r, p, r.PathValue("id"))
	}))
	return mux
}

// Login is for the application's own login handler, after it checked the
// user's credentials: it issues a token pair for userID with user claims
// user, bound to r's client, and writes the 200 login body
// {"access_token","refresh_token","token_type","expires_in",
// "refresh_expires_in","session_id"}, or the mapped error (403
// device_limit_reached, 503 unavailable, ...).
func (a *Auth[U]) Login(w http.ResponseWriter, r *http.Request, userID string, user U) {
	if err := a.h.Login(w, r, userID, user); err != nil {
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
			a.Error(w, r, web.ErrNoCredentials)
			return
		}
		if err := fn(w, r, p); err != nil {
			a.Error(w, r, err)
		}
	}))
}
