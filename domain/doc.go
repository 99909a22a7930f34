// Package domain holds jwtauth's pure types and rules: token types, claims,
// sessions, the device policy, client information, IP binding and the
// sentinel errors every layer returns. It imports only the standard library.
package domain
