// Package jwtcodec signs and parses jwtauth's inner token, a JWT (JWS
// compact serialization), on github.com/golang-jwt/jwt/v5. It implements
// ports.TokenCodec.
//
// Signing uses golang-jwt's signing methods (HS256 by default; HS384, HS512
// and EdDSA are allowed). Parsing is strict: the header's alg must be exactly
// the configured one (so "none" and algorithm confusion are impossible), the
// signature is checked before the claims are decoded, exp is required, and
// the registered claims are validated by golang-jwt's Validator with a small
// leeway. Parse decodes the token itself into typed structs, which makes it
// faster and lighter than a general-purpose jwt.Parser.
//
// Errors wrap domain.ErrMalformed (structure, base64, JSON), domain.ErrInvalid
// (algorithm, signature, claims) or domain.ErrExpired.
package jwtcodec
