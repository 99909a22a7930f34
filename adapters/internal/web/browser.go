package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// BrowserConfig is the browser group's part of both adapters' Configs.
type BrowserConfig struct {
	// Cookies holds the cookies' SameSite and Secure attributes.
	Cookies CookieConfig
	// AllowedOrigins are origins ("https://app.example.com") trusted for
	// cross-origin unsafe requests besides the request's own.
	AllowedOrigins []string
}

// Browser holds what the browser group needs: the cookie attributes and
// the cross-origin check. The zero value sets Lax, Secure cookies and
// trusts no other origin.
type Browser struct {
	Cookies CookieConfig
	origins *http.CrossOriginProtection
}

// NewBrowser validates cfg and returns its Browser. An allowed origin that
// is not "scheme://host[:port]" is an error wrapping
// domain.ErrInvalidArgument, prefixed with pkg.
func NewBrowser(pkg string, cfg BrowserConfig) (Browser, error) {
	switch cfg.Cookies.SameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
	default:
		return Browser{}, fmt.Errorf("%w: %s: Config.CookieSameSite must be Lax or Strict (None would send the cookies cross-site)", domain.ErrInvalidArgument, pkg)
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.AllowedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return Browser{}, fmt.Errorf("%w: %s: Config.AllowedOrigins: %v", domain.ErrInvalidArgument, pkg, err)
		}
	}
	return Browser{Cookies: cfg.Cookies, origins: cop}, nil
}

// CheckOrigin refuses a cross-origin browser request with an error
// wrapping ErrCrossOrigin (403 cross_origin). It checks, with Go's
// http.CrossOriginProtection (Sec-Fetch-Site, else Origin against Host;
// GET, HEAD and OPTIONS always pass), every request when always is true
// (the browser group), else only requests that carry a jwtauth cookie:
// requests with only an Authorization header cannot be forged by another
// site, cookie-carrying ones can.
func (b Browser) CheckOrigin(r *http.Request, always bool) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil // CrossOriginProtection passes them: skip parsing the cookies
	}
	if !always && !hasJWTAuthCookie(r) {
		return nil
	}
	cop := b.origins
	if cop == nil {
		cop = &http.CrossOriginProtection{}
	}
	if err := cop.Check(r); err != nil {
		return fmt.Errorf("%w: %v", ErrCrossOrigin, err)
	}
	return nil
}

// browserKey marks a request's context as a browser-group login.
type browserKey struct{}

// WithBrowserLogin returns a copy of ctx that marks the request as a login
// of the browser group: the adapters' Login then answers with cookies
// (BrowserLogin) instead of a token body.
func WithBrowserLogin(ctx context.Context) context.Context {
	return context.WithValue(ctx, browserKey{}, true)
}

// IsBrowserLogin reports whether ctx was marked by WithBrowserLogin.
func IsBrowserLogin(ctx context.Context) bool {
	v, _ := ctx.Value(browserKey{}).(bool)
	return v
}

// BrowserTokenType is the "token_type" of a browser-group login.
const BrowserTokenType = "cookie"

// BrowserLoginResponse is the 200 body of a browser-group login: no token.
type BrowserLoginResponse struct {
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`         // seconds
	RefreshExpiresIn int64  `json:"refresh_expires_in"` // seconds
	SessionID        string `json:"session_id"`
}

// BrowserRefreshResponse is the 200 body of a browser-group refresh.
type BrowserRefreshResponse struct {
	ExpiresIn int64 `json:"expires_in"` // seconds
}

// BrowserLogin issues a token pair for userID (whose credentials the
// application checked) on the request's client, sets the access and
// refresh cookies and writes the 200 browser login body. When the request
// has no device header and no usable device cookie, a new random device id
// is the session's device and is set as the device cookie; an existing one
// is renewed. Browser-group tokens are never DPoP-bound (a DPoP header is
// ignored), so with DPoP required it refuses to log in (400
// invalid_dpop_proof).
func (h *Handlers[U]) BrowserLogin(w http.ResponseWriter, r *http.Request, b Browser, userID string, user U) error {
	if h.DPoP.Required { // NewHandlers refuses Required without a validator
		return h.DPoP.wrap(errBrowserNeedsDPoP, true)
	}
	client := h.Resolver.Resolve(r)
	device := ""
	if _, ok := h.Resolver.headerDeviceID(r); !ok {
		if device = deviceCookie(r); device == "" {
			device = newDeviceID()
		}
		client.DeviceID = device
	}
	pair, err := h.Service.Login(r.Context(), userID, user, client)
	if err != nil {
		return err
	}
	if device != "" {
		b.Cookies.setDevice(w, device)
	}
	b.Cookies.setTokens(w, pair)
	now := pair.IssuedAt
	WriteJSON(w, http.StatusOK, BrowserLoginResponse{
		TokenType:        BrowserTokenType,
		ExpiresIn:        seconds(pair.AccessExpiresAt.Sub(now)),
		RefreshExpiresIn: seconds(pair.RefreshExpiresAt.Sub(now)),
		SessionID:        pair.SessionID,
	})
	return nil
}

// BrowserRefresh serves POST /auth/browser/refresh: it refreshes with the
// refresh cookie, renews the access cookie (and the refresh cookie when
// rotation issued a new one) and writes {"expires_in"}. A refresh the
// service rejects (401) also deletes both token cookies: they can never
// work again.
func (h *Handlers[U]) BrowserRefresh(w http.ResponseWriter, r *http.Request, b Browser) error {
	raw, err := tokenCookie(r, RefreshCookie)
	if err != nil {
		return err
	}
	client, err := h.refreshClient(r, raw)
	if err != nil {
		return h.DPoP.wrap(err, true)
	}
	pair, err := h.Service.Refresh(r.Context(), raw, client)
	if err != nil {
		if Classify(err).Status == http.StatusUnauthorized {
			b.Cookies.clearTokens(w)
		}
		return h.DPoP.wrap(err, true)
	}
	b.Cookies.setTokens(w, pair)
	WriteJSON(w, http.StatusOK, BrowserRefreshResponse{ExpiresIn: seconds(pair.AccessExpiresAt.Sub(pair.IssuedAt))})
	return nil
}

// BrowserLogout serves POST /auth/browser/logout: Logout, and the token
// cookies deleted.
func (h *Handlers[U]) BrowserLogout(w http.ResponseWriter, r *http.Request, b Browser, p app.Principal[U]) error {
	return clearingTokens(w, b, func() error { return h.Logout(w, r, p) })
}

// BrowserLogoutAll serves POST /auth/browser/logout/all: LogoutAll, and
// the token cookies deleted.
func (h *Handlers[U]) BrowserLogoutAll(w http.ResponseWriter, r *http.Request, b Browser, p app.Principal[U]) error {
	return clearingTokens(w, b, func() error { return h.LogoutAll(w, r, p) })
}

// clearingTokens sets the cookie deletions, then runs logout, which
// writes the 204; when it fails instead, the deletions are withdrawn (the
// session may still be live, so the browser keeps its tokens).
func clearingTokens(w http.ResponseWriter, b Browser, logout func() error) error {
	before := slices.Clone(w.Header().Values("Set-Cookie"))
	b.Cookies.clearTokens(w)
	if err := logout(); err != nil {
		w.Header()["Set-Cookie"] = before
		if len(before) == 0 {
			w.Header().Del("Set-Cookie")
		}
		return err
	}
	return nil
}
