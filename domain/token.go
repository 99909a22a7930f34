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
	if !visibleASCII(string(t)) {
		return fmt.Errorf("%w: invalid characters", ErrMalformed)
	}
	return nil
}

// visibleASCII reports whether every byte of s is in 0x21..0x7e. It tests
// eight bytes a word, two words a round: a word has a byte below 0x21 when
// subtracting 0x21 from every byte borrows into a byte whose top bit was
// clear, and a byte above 0x7e when the byte or the byte plus one has its
// top bit set (a carry out of a byte only comes from 0xff, itself
// refused).
func visibleASCII(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	word := func(i int) uint64 {
		return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
	}
	bad := func(w uint64) uint64 { return (w-0x21*ones)&^w | w | (w + ones) }
	i := 0
	for ; i+16 <= len(s); i += 16 {
		if (bad(word(i))|bad(word(i+8)))&highs != 0 {
			return false
		}
	}
	for ; i+8 <= len(s); i += 8 {
		if bad(word(i))&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
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
	// JKT is the RFC 7638 thumbprint of the DPoP key the token is bound
	// to (cnf.jkt, RFC 9449 §6.1); empty for a token that is not bound.
	JKT string
}
