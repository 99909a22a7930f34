// Package jwe encrypts jwtauth's signed tokens as JWE compact serialization
// (RFC 7516) with alg "dir" and enc "A256GCM" over crypto/aes and
// crypto/cipher. It implements ports.Cipher.
//
// The protected header is {"alg":"dir","enc":"A256GCM","cty":"JWT","kid":...}
// and the encrypted key part is empty, so any JOSE library holding the key
// can decrypt a token, and tokens from such libraries decrypt here.
//
// Keys form a ring: the first key encrypts, every key decrypts, selected by
// the header's kid. Prepending a new key rotates keys without invalidating
// tokens encrypted under the old ones.
//
// AES-GCM authenticates the header, IV and ciphertext: a changed bit
// anywhere makes the token invalid, never a different token. Every
// authentication failure returns the same opaque error wrapping
// domain.ErrInvalid; structural problems wrap domain.ErrMalformed.
package jwe
