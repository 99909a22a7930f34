package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

// Handlers is the logic of the auth routes, shared by both adapters. Each
// route method either writes its whole success response and returns nil,
// or writes nothing and returns an error (wrapping a domain sentinel, or
// domain.ErrMissingToken / ErrBodyTooLarge) for the adapter to write through its
// error hook or WriteError.
type Handlers[U any] struct {
	Service  *app.Service[U]
	Resolver ClientResolver
}

// NewHandlers validates the settings both adapters' Configs share and
// returns their Handlers: svc is required, proxies are normalised by
// NormalizePrefixes, an empty deviceHeader is DefaultDeviceHeader. Errors
// wrap domain.ErrInvalidArgument and are prefixed with pkg.
func NewHandlers[U any](pkg string, svc *app.Service[U], proxies []netip.Prefix, deviceHeader string) (Handlers[U], error) {
	if svc == nil {
		return Handlers[U]{}, fmt.Errorf("%w: %s: Config.Service is required", domain.ErrInvalidArgument, pkg)
	}
	proxies, err := NormalizePrefixes(proxies)
	if err != nil {
		return Handlers[U]{}, fmt.Errorf("%s: Config.TrustedProxies: %w", pkg, err)
	}
	if deviceHeader == "" {
		deviceHeader = DefaultDeviceHeader
	}
	// Canonical, the header is looked up without a conversion per request.
	resolver := ClientResolver{TrustedProxies: proxies, DeviceHeader: http.CanonicalHeaderKey(deviceHeader)}
	return Handlers[U]{Service: svc, Resolver: resolver}, nil
}

// Authenticate authenticates the request's access token (AccessToken:
// the bearer token, else the access cookie) for the request's client (its
// IP and device id; the device name, which only sessions record, is not
// derived on this per-request path).
func (h *Handlers[U]) Authenticate(r *http.Request) (app.Principal[U], error) {
	raw, err := AccessToken(r)
	if err != nil {
		return app.Principal[U]{}, err
	}
	return h.Service.Authenticate(r.Context(), raw, h.Resolver.binding(r))
}

// Login issues a token pair for userID (whose credentials the application
// checked) on the request's client and writes the 200 login body.
func (h *Handlers[U]) Login(w http.ResponseWriter, r *http.Request, userID string, user U) error {
	pair, err := h.Service.Login(r.Context(), userID, user, h.Resolver.Resolve(r))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewLoginResponse(pair, pair.IssuedAt))
	return nil
}

// Refresh serves POST /refresh {"refresh_token"}.
func (h *Handlers[U]) Refresh(w http.ResponseWriter, r *http.Request) error {
	var req RefreshRequest
	if err := DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return fmt.Errorf("%w: refresh_token is required", domain.ErrInvalidArgument)
	}
	pair, err := h.Service.Refresh(r.Context(), req.RefreshToken, h.Resolver.Resolve(r))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewRefreshResponse(pair, pair.IssuedAt))
	return nil
}

// Verify serves POST /verify {"token"}. A token the service rejects is
// answered here with 401 {"valid":false,"error":"<code>"} and the
// WWW-Authenticate challenge; only a bad body (400, 413) or an unavailable
// service (503) is returned as an error, so that "cannot tell" is never
// reported as "invalid".
func (h *Handlers[U]) Verify(w http.ResponseWriter, r *http.Request) error {
	var req VerifyRequest
	if err := DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return fmt.Errorf("%w: token is required", domain.ErrInvalidArgument)
	}
	typ, err := h.Service.Verify(r.Context(), req.Token, h.Resolver.Resolve(r))
	if err != nil {
		p := Classify(err)
		if p.Status != http.StatusUnauthorized {
			return err
		}
		p.writeHeaders(w.Header())
		WriteJSON(w, p.Status, VerifyResponse{Valid: false, Error: p.Code})
		return nil
	}
	WriteJSON(w, http.StatusOK, VerifyResponse{Valid: true, TokenType: string(typ)})
	return nil
}

// Logout serves POST /logout: it ends the principal's session. A session
// that ended meanwhile is already logged out: 204 too.
func (h *Handlers[U]) Logout(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
	// The principal names the user: no lookup of the session's owner.
	err := h.Service.LogoutSession(r.Context(), p.UserID, p.SessionID)
	if err != nil && !errors.Is(err, domain.ErrSessionNotFound) {
		return err
	}
	WriteNoContent(w)
	return nil
}

// LogoutAll serves POST /logout/all: it ends every session of the user.
func (h *Handlers[U]) LogoutAll(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
	if err := h.Service.LogoutAll(r.Context(), p.UserID); err != nil {
		return err
	}
	WriteNoContent(w)
	return nil
}

// LogoutOthers serves POST /logout/others: it ends every session of the
// user but the principal's.
func (h *Handlers[U]) LogoutOthers(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
	if err := h.Service.LogoutOthers(r.Context(), p.UserID, p.SessionID); err != nil {
		return err
	}
	WriteNoContent(w)
	return nil
}

// Sessions serves GET /sessions: the user's active sessions, the
// principal's marked current.
func (h *Handlers[U]) Sessions(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
	sessions, err := h.Service.Sessions(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewSessionViews(sessions, p.SessionID))
	return nil
}

// RevokeSession serves DELETE /sessions/{id}: it ends one of the user's
// sessions. Another user's session, or an unknown or ended one, is
// domain.ErrSessionNotFound (404).
func (h *Handlers[U]) RevokeSession(w http.ResponseWriter, r *http.Request, p app.Principal[U], sessionID string) error {
	if sessionID == "" || len(sessionID) > app.MaxUserIDLen {
		return domain.ErrSessionNotFound
	}
	if err := h.Service.RevokeSession(r.Context(), p.UserID, sessionID); err != nil {
		return err
	}
	WriteNoContent(w)
	return nil
}
