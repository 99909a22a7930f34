package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
)

// Transport errors, beside the domain sentinels.
var (
	// ErrBodyTooLarge: the request body exceeds MaxBodyBytes (413). It wraps
	// domain.ErrInvalidArgument.
	ErrBodyTooLarge = fmt.Errorf("%w: request body too large", domain.ErrInvalidArgument)
	// ErrRouteNotFound: no route has the request's path (404 not_found).
	ErrRouteNotFound = errors.New("jwtauth: no such route")
	// ErrMethodNotAllowed: a route has the request's path but another
	// method (405 invalid_request).
	ErrMethodNotAllowed = errors.New("jwtauth: method not allowed")
	// ErrCrossOrigin: a cross-origin browser request to the browser group,
	// or an unsafe one carrying a jwtauth cookie (403 cross_origin).
	ErrCrossOrigin = errors.New("jwtauth: cross-origin request refused")
	// ErrUnsupportedMediaType: a JSON endpoint got a Content-Type other
	// than application/json (415 unsupported_media_type). It wraps
	// domain.ErrInvalidArgument.
	ErrUnsupportedMediaType = fmt.Errorf("%w: Content-Type must be application/json", domain.ErrInvalidArgument)
)

// Realm is the realm of every WWW-Authenticate challenge.
const Realm = "jwtauth"

// The error codes of the reference HTTP contract.
const (
	CodeInvalidRequest     = "invalid_request"
	CodeInvalidCredentials = "invalid_credentials" // #nosec G101 -- an error code, not a credential
	CodeInvalidToken       = "invalid_token"
	CodeTokenExpired       = "token_expired"
	CodeTokenRevoked       = "token_revoked"
	CodeWrongTokenType     = "wrong_token_type"
	CodeClientMismatch     = "client_mismatch"
	CodeRefreshReused      = "refresh_reused"
	CodeDeviceLimitReached = "device_limit_reached"
	CodeNotFound           = "not_found"
	CodeUnavailable        = "unavailable"
	CodeCrossOrigin        = "cross_origin"
	CodeUnsupportedMedia   = "unsupported_media_type"
)

// Problem is how an error is shown to the client.
type Problem struct {
	Status      int    // HTTP status
	Code        string // the "error" member
	Description string // the "error_description" member: fixed text
	// NoCredentials adds the realm to the challenge (RFC 6750 §3.1).
	NoCredentials bool
	// DPoP makes the challenge a DPoP one (RFC 9449 §7.1) with the error;
	// otherwise, when Algs is set (DPoP is on), a DPoP challenge without
	// an error follows the Bearer one.
	DPoP bool
	// Algs are the accepted DPoP proof algorithms, space-separated ("":
	// DPoP is off).
	Algs string
	// Nonce, when set, is sent as DPoP-Nonce (RFC 9449 §8).
	Nonce string
	// DPoPScheme: the request used the DPoP scheme, so a token error's
	// first challenge is DPoP error="invalid_token" (RFC 9449 §7.1),
	// before the Bearer one.
	DPoPScheme bool
	// Known is false for errors matching no table entry (logged, 503).
	Known bool
}

// problems is THE error table: the first entry whose sentinel matches
// (errors.Is) decides. Descriptions are fixed texts without quotes or
// backslashes, so they can be put verbatim in a quoted-string. Order
// matters where sentinels nest: ErrBodyTooLarge wraps ErrInvalidArgument;
// ErrUnavailable comes first so that an error carrying it fails closed as
// 503 even if it also wraps another sentinel.
var problems = []struct {
	err error
	p   Problem
}{
	{domain.ErrMissingToken, Problem{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "missing bearer token", NoCredentials: true}},
	{ErrCrossOrigin, Problem{Status: http.StatusForbidden, Code: CodeCrossOrigin, Description: "cross-origin requests are refused"}},
	{ErrBodyTooLarge, Problem{Status: http.StatusRequestEntityTooLarge, Code: CodeInvalidRequest, Description: "the request body is too large"}},
	{ErrUnsupportedMediaType, Problem{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMedia, Description: "the request body must be application/json"}},
	{domain.ErrUnavailable, Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Description: "the service is temporarily unavailable, retry later"}},
	{domain.ErrMalformed, Problem{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "the token is invalid"}},
	{domain.ErrInvalid, Problem{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "the token is invalid"}},
	{domain.ErrExpired, Problem{Status: http.StatusUnauthorized, Code: CodeTokenExpired, Description: "the token has expired"}},
	{domain.ErrRevoked, Problem{Status: http.StatusUnauthorized, Code: CodeTokenRevoked, Description: "the token has been revoked"}},
	{domain.ErrWrongTokenType, Problem{Status: http.StatusUnauthorized, Code: CodeWrongTokenType, Description: "the token is of the wrong type for this endpoint"}},
	{domain.ErrClientMismatch, Problem{Status: http.StatusUnauthorized, Code: CodeClientMismatch, Description: "the token is bound to another client"}},
	{dpop.ErrUseNonce, Problem{Status: http.StatusUnauthorized, Code: CodeUseDPoPNonce, Description: "resend the DPoP proof with the server nonce", DPoP: true}},
	{dpop.ErrInvalidProof, Problem{Status: http.StatusUnauthorized, Code: CodeInvalidDPoPProof, Description: "the DPoP proof is missing or invalid", DPoP: true}},
	{domain.ErrKeyMismatch, Problem{Status: http.StatusUnauthorized, Code: CodeInvalidDPoPProof, Description: "the token is bound to another DPoP key or to none", DPoP: true}},
	{domain.ErrRefreshReused, Problem{Status: http.StatusUnauthorized, Code: CodeRefreshReused, Description: "the refresh token was already used; its session has been revoked"}},
	{domain.ErrInvalidCredentials, Problem{Status: http.StatusUnauthorized, Code: CodeInvalidCredentials, Description: "invalid username or password"}},
	{domain.ErrDeviceLimitReached, Problem{Status: http.StatusForbidden, Code: CodeDeviceLimitReached, Description: "the account has reached its device limit"}},
	{domain.ErrSessionNotFound, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Description: "no such session"}},
	{ErrRouteNotFound, Problem{Status: http.StatusNotFound, Code: CodeNotFound, Description: "no such route"}},
	{ErrMethodNotAllowed, Problem{Status: http.StatusMethodNotAllowed, Code: CodeInvalidRequest, Description: "the method is not allowed on this route"}},
	{domain.ErrInvalidArgument, Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: "the request is malformed or misses a parameter"}},
}

// unknownProblem is the answer to an error matching no entry: fail closed.
var unknownProblem = Problem{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Description: "the service is temporarily unavailable, retry later"}

// Classify returns how err is shown: the first table entry err matches,
// else a 503 "unavailable" with Known false, adjusted for a DPoP-enabled
// route (see dpopError). err must not be nil.
func Classify(err error) Problem {
	p := unknownProblem
	for _, e := range problems {
		if errors.Is(err, e.err) {
			p = e.p
			p.Known = true
			break
		}
	}
	if de, ok := errors.AsType[*dpopError](err); ok {
		p = de.adjust(p)
	}
	return p
}

// StatusOf returns the status and code err is answered with (200 and ""
// for nil): the transports' exported StatusOf.
func StatusOf(err error) (status int, code string) {
	if err == nil {
		return http.StatusOK, ""
	}
	p := Classify(err)
	return p.Status, p.Code
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Challenge returns the WWW-Authenticate value for a 401 problem. The
// contract promises error="invalid_token" on every 401, so a request
// without credentials gets it too, after the realm (RFC 6750 3.1 allows
// the error attribute there; clients that only look for the scheme are
// unaffected).
func (p Problem) Challenge() string {
	if p.DPoP {
		c := `DPoP error="` + p.Code + `", error_description="` + p.Description + `"`
		if p.Algs != "" {
			c += `, algs="` + p.Algs + `"`
		}
		return c
	}
	if p.NoCredentials {
		return `Bearer realm="` + Realm + `", error="invalid_token", error_description="` + p.Description + `"`
	}
	return `Bearer error="invalid_token", error_description="` + p.Description + `"`
}

// writeHeaders sets the headers every error response carries: the
// challenge on 401 (and, with DPoP on, a DPoP challenge after a Bearer
// one), Retry-After on 503, DPoP-Nonce when the problem has one.
func (p Problem) writeHeaders(h http.Header) {
	switch p.Status {
	case http.StatusUnauthorized:
		switch {
		case p.DPoP:
			h.Set("WWW-Authenticate", p.Challenge())
		case p.DPoPScheme:
			h.Set("WWW-Authenticate", `DPoP error="invalid_token", error_description="`+p.Description+`", algs="`+p.Algs+`"`)
			h.Add("WWW-Authenticate", p.Challenge())
		default:
			h.Set("WWW-Authenticate", p.Challenge())
			if p.Algs != "" {
				h.Add("WWW-Authenticate", `DPoP algs="`+p.Algs+`"`)
			}
		}
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	}
	if p.Nonce != "" {
		h.Set("DPoP-Nonce", p.Nonce)
	}
}

// WriteError writes err as a JSON error response through the table. An
// error matching no entry is logged at error level on log, and
// domain.ErrUnavailable at warn level (nil log: slog.Default()); the token
// and the request body are never logged.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if err == nil {
		err = errors.New("web: WriteError called with a nil error")
	}
	p := Classify(err)
	logProblem(r, log, p, err)
	p.writeHeaders(w.Header())
	WriteJSON(w, p.Status, ErrorBody{Error: p.Code, Description: p.Description})
}

func logProblem(r *http.Request, log *slog.Logger, p Problem, err error) {
	if p.Known && p.Status != http.StatusServiceUnavailable {
		return
	}
	if log == nil {
		log = slog.Default()
	}
	level := slog.LevelError
	if p.Known {
		level = slog.LevelWarn
	}
	log.Log(r.Context(), level, "jwtauth: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
}
