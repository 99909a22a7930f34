package domain

import "errors"

// Sentinel errors. Every failure returned by jwtauth wraps exactly one of
// these; check them with errors.Is. Transports map each to one HTTP status.
var (
	// ErrMalformed: the token is not a well-formed JWE/JWS (wrong number of
	// parts, bad base64, bad JSON, empty or oversized input).
	ErrMalformed = errors.New("jwtauth: malformed token")
	// ErrInvalid: the token failed authentication (decryption, signature,
	// unknown key id, disallowed algorithm) or carries invalid claims
	// (not yet valid, wrong issuer or audience, missing required claims).
	ErrInvalid = errors.New("jwtauth: invalid token")
	// ErrExpired: the token's exp is in the past.
	ErrExpired = errors.New("jwtauth: token expired")
	// ErrRevoked: the token's generation was rotated or its session ended.
	ErrRevoked = errors.New("jwtauth: token revoked")
	// ErrWrongTokenType: a refresh token was presented as an access token
	// or the reverse.
	ErrWrongTokenType = errors.New("jwtauth: wrong token type")
	// ErrClientMismatch: the token is bound to another IP or device.
	ErrClientMismatch = errors.New("jwtauth: token bound to another client")
	// ErrKeyMismatch: the token is bound to a DPoP key (cnf.jkt) and the
	// request proved possession of another key or of none (a bound token
	// used as a Bearer token), or the request proved a key for a token
	// that is not bound. Transports answer it as RFC 9449's
	// invalid_dpop_proof.
	ErrKeyMismatch = errors.New("jwtauth: token bound to another key")
	// ErrDeviceLimitReached: the account is at its device limit and the
	// policy is "reject".
	ErrDeviceLimitReached = errors.New("jwtauth: device limit reached")
	// ErrRefreshReused: a rotated-out refresh token was presented after the
	// grace interval; its session has been revoked.
	ErrRefreshReused = errors.New("jwtauth: refresh token reused")
	// ErrSessionNotFound: no such session for this user.
	ErrSessionNotFound = errors.New("jwtauth: session not found")
	// ErrInvalidCredentials: the username or password is wrong.
	ErrInvalidCredentials = errors.New("jwtauth: invalid credentials")
	// ErrInvalidArgument: a caller passed an unusable value (empty user id,
	// unknown token type, ...).
	ErrInvalidArgument = errors.New("jwtauth: invalid argument")
	// ErrMissingToken: the request carries no token at all (no
	// Authorization header, or one of another scheme). Transports answer it
	// 401 invalid_token with a realm in the challenge.
	ErrMissingToken = errors.New("jwtauth: missing bearer token")
	// ErrUnavailable: the store (or another dependency) could not answer.
	// Security checks fail closed: a token is never valid when this occurs.
	ErrUnavailable = errors.New("jwtauth: unavailable")
)
