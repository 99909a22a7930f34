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
	DPoP     DPoP
}

// NewHandlers validates the settings both adapters' Configs share and
// returns their Handlers: svc is required, proxies are normalised by
// NormalizePrefixes, an empty deviceHeader is DefaultDeviceHeader, and
// proofs cannot be required without a validator. Errors wrap
// domain.ErrInvalidArgument and are prefixed with pkg.
func NewHandlers[U any](pkg string, svc *app.Service[U], proxies []netip.Prefix, deviceHeader string, dp DPoP) (Handlers[U], error) {
	if svc == nil {
		return Handlers[U]{}, fmt.Errorf("%w: %s: Config.Service is required", domain.ErrInvalidArgument, pkg)
	}
	if dp.Required && dp.Validator == nil {
		return Handlers[U]{}, fmt.Errorf("%w: %s: Config.DPoPRequired needs Config.DPoP", domain.ErrInvalidArgument, pkg)
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
	return Handlers[U]{Service: svc, Resolver: resolver, DPoP: dp}, nil
}

// Authenticate authenticates the request's access token (AccessToken:
// the Authorization header's, else the access cookie) for the request's
// client (its IP, device id and, with the DPoP scheme, the key its proof
// proves; the device name, which only sessions record, is not derived on
// this per-request path).
func (h *Handlers[U]) Authenticate(r *http.Request) (app.Principal[U], error) {
	raw, isDPoP, err := AccessToken(r)
	if err != nil {
		return app.Principal[U]{}, h.DPoP.wrap(err, false)
	}
	client := h.Resolver.binding(r)
	proof, err := h.DPoP.resourceProof(r, raw, isDPoP)
	if err != nil {
		return app.Principal[U]{}, h.DPoP.wrapScheme(err, false, isDPoP)
	}
	client.JKT = proof.JKT
	p, err := h.Service.Authenticate(r.Context(), raw, client)
	if err == nil {
		err = h.DPoP.spend(proof)
	}
	if err != nil {
		return app.Principal[U]{}, h.DPoP.wrapScheme(err, false, isDPoP)
	}
	return p, nil
}

// Login issues a token pair for userID (whose credentials the application
// checked) on the request's client and writes the 200 login body. With a
// valid DPoP proof the session and its tokens are bound to the proof's
// key (token_type "DPoP").
func (h *Handlers[U]) Login(w http.ResponseWriter, r *http.Request, userID string, user U) error {
	client := h.Resolver.Resolve(r)
	proof, err := h.DPoP.tokenProof(r, "")
	if err == nil {
		err = h.DPoP.spend(proof) // the application checked the credentials
	}
	if err != nil {
		return h.DPoP.wrap(err, true)
	}
	client.JKT = proof.JKT
	pair, err := h.Service.Login(r.Context(), userID, user, client)
	if err != nil {
		return h.DPoP.wrap(err, true)
	}
	h.DPoP.setNonce(w)
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
	client, err := h.refreshClient(r, req.RefreshToken)
	if err != nil {
		return h.DPoP.wrap(err, true)
	}
	pair, err := h.Service.Refresh(r.Context(), req.RefreshToken, client)
	if err != nil {
		return h.DPoP.wrap(err, true)
	}
	h.DPoP.setNonce(w)
	WriteJSON(w, http.StatusOK, NewRefreshResponse(pair, pair.IssuedAt))
	return nil
}

// refreshClient resolves a refresh request's client and its proof's key.
// A proof is spent only once the refresh token is known to be valid for
// that key (Verify, which changes nothing), so that refreshes with made-up
// tokens take no room in the replay cache; a reused token goes on to
// Refresh, which revokes its session.
func (h *Handlers[U]) refreshClient(r *http.Request, raw string) (domain.ClientInfo, error) {
	client := h.Resolver.Resolve(r)
	proof, err := h.DPoP.tokenProof(r, "")
	if err != nil || proof.JKT == "" {
		return client, err
	}
	client.JKT = proof.JKT
	if _, err := h.Service.Verify(r.Context(), raw, client); err != nil && !errors.Is(err, domain.ErrRefreshReused) {
		return client, err
	}
	return client, h.DPoP.spend(proof)
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
	client := h.Resolver.Resolve(r)
	proof, err := h.DPoP.tokenProof(r, req.Token)
	client.JKT = proof.JKT
	var typ domain.TokenType
	if err == nil {
		typ, err = h.Service.Verify(r.Context(), req.Token, client)
	}
	if err == nil {
		err = h.DPoP.spend(proof)
	}
	if err != nil {
		err = h.DPoP.wrap(err, false)
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
