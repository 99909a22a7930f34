// Package domain holds jwtauth's pure types and rules: tokens (Token,
// TokenType, Claims), the seed's UserAuth (a user's generation per token
// type), sessions, the device policy, client information, IP binding and
// the sentinel errors every layer returns. It imports only the standard
// library.
package domain
