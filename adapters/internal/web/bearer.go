package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/jwtauth/jwtauth/domain"
)

// BearerToken returns the token of the request's "Authorization: Bearer
// <token>" header (RFC 6750 §2.1). The scheme is case-insensitive and is
// followed by exactly one space and one token that passes
// domain.Token.Check (1 to domain.MaxTokenLen visible ASCII characters).
//
// No Authorization header, or one of another scheme, is domain.ErrMissingToken.
// Several Authorization headers, or a Bearer header whose token is empty,
// too long, or contains spaces or other characters, is an error wrapping
// domain.ErrMalformed (401 invalid_token).
func BearerToken(r *http.Request) (string, error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return "", domain.ErrMissingToken
	}
	if len(vals) > 1 {
		return "", fmt.Errorf("%w: several Authorization headers", domain.ErrMalformed)
	}
	const scheme = "Bearer"
	v := vals[0]
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) ||
		(len(v) > len(scheme) && v[len(scheme)] != ' ') {
		return "", domain.ErrMissingToken
	}
	tok := v[len(scheme):]
	if tok == "" {
		return "", fmt.Errorf("%w: empty bearer token", domain.ErrMalformed)
	}
	tok = tok[1:]
	if err := domain.Token(tok).Check(); err != nil {
		return "", fmt.Errorf("bearer token: %w", err)
	}
	return tok, nil
}
