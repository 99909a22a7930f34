package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/jwtauth/jwtauth/domain"
)

// AuthorizationToken returns the token of the request's "Authorization:
// Bearer <token>" (RFC 6750 §2.1) or "Authorization: DPoP <token>" (RFC
// 9449 §7.1) header, and whether the scheme is DPoP. The scheme is
// case-insensitive and is followed by exactly one space and one token that
// passes domain.Token.Check (1 to domain.MaxTokenLen visible ASCII
// characters).
//
// No Authorization header, or one of another scheme, is
// domain.ErrMissingToken. Several Authorization headers, or a header of
// either scheme whose token is empty, too long, or contains spaces or
// other characters, is an error wrapping domain.ErrMalformed (401
// invalid_token).
func AuthorizationToken(r *http.Request) (tok string, isDPoP bool, err error) {
	vals := r.Header["Authorization"] // canonical: no conversion per request
	if len(vals) == 0 {
		return "", false, domain.ErrMissingToken
	}
	if len(vals) > 1 {
		return "", false, fmt.Errorf("%w: several Authorization headers", domain.ErrMalformed)
	}
	v := vals[0]
	scheme := "Bearer"
	if hasScheme(v, TokenTypeDPoP) {
		scheme, isDPoP = TokenTypeDPoP, true
	} else if !hasScheme(v, scheme) {
		return "", false, domain.ErrMissingToken
	}
	tok = v[len(scheme):]
	if tok == "" {
		return "", false, fmt.Errorf("%w: empty %s token", domain.ErrMalformed, scheme)
	}
	tok = tok[1:]
	if err := domain.Token(tok).Check(); err != nil {
		return "", false, fmt.Errorf("%s token: %w", scheme, err)
	}
	return tok, isDPoP, nil
}

// hasScheme reports whether v is scheme, case-insensitively, alone or
// followed by a space.
func hasScheme(v, scheme string) bool {
	return len(v) >= len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) &&
		(len(v) == len(scheme) || v[len(scheme)] == ' ')
}
