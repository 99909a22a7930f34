package domain

import (
	"fmt"
	"net/netip"
	"time"
)

// MaxTokenLen is the longest token, in bytes, any layer accepts: longer
// input is malformed before any decoding work.
const MaxTokenLen = 16 << 10

// Token is a token as clients hold it: the compact JWE (or, with
// encryption off, JWS) serialization.
type Token string

// Check reports whether t can be a token at all, before any decoding
// work: 1 to MaxTokenLen bytes of visible ASCII (every character of a
// compact serialization is). The error wraps ErrMalformed.
func (t Token) Check() error {
	if t == "" || len(t) > MaxTokenLen {
		return fmt.Errorf("%w: empty or longer than %d bytes", ErrMalformed, MaxTokenLen)
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= 0x20 || t[i] >= 0x7f {
			return fmt.Errorf("%w: invalid characters", ErrMalformed)
		}
	}
	return nil
}

// TokenType tells access tokens from refresh tokens. It is the "typ" claim.
type TokenType string

// The token types.
const (
	Access  TokenType = "access"
	Refresh TokenType = "refresh"
)

// ParseTokenType returns the TokenType named s, or ErrInvalidArgument.
func ParseTokenType(s string) (TokenType, error) {
	switch TokenType(s) {
	case Access, Refresh:
		return TokenType(s), nil
	}
	return "", fmt.Errorf("%w: token type %q", ErrInvalidArgument, s)
}

// Claims are the registered and jwtauth claims of a token, without the
// application's user claims ("usr"), which travel beside them.
type Claims struct {
	Issuer    string    // iss
	Audience  []string  // aud
	Subject   string    // sub: the user id
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf
	IssuedAt  time.Time // iat
	ID        string    // jti
	Type      TokenType // typ
	SessionID string    // sid
	// Generation is the user's generation UUID for Type when the token was
	// issued (gen). The token is valid only while it is still current.
	Generation string
	// IP is the client address at issue (ip). Only access tokens are
	// checked against it; refresh tokens are bound to the device alone.
	IP netip.Addr
	// DeviceID is the device the token is bound to (dev).
	DeviceID string
	// RefreshCounter is the session's rotation counter (rfc, refresh only).
	RefreshCounter uint64
}
