// Package dpop validates and creates DPoP proofs (RFC 9449): short JWTs,
// signed by a key pair the client holds and never sends, that bind each
// HTTP request (method and URL) and, for resource requests, the access
// token it carries to that key.
//
// A Validator checks a proof as RFC 9449 §4.3 says: a compact JWS whose
// header has typ "dpop+jwt", an allowed asymmetric alg (never "none" or
// HS*) and a public jwk (private members refused) that verifies the
// signature; htm equal to the request method; htu equal to the request
// URL without query and fragment, after syntax- and scheme-based
// normalisation (RFC 3986 §6.2.2, §6.2.3), against the URL the request
// arrived at or a configured public base URL; iat no older than MaxAge and
// not further in the future than Skew; jti not seen before within that
// window; ath equal to base64url(SHA-256(access token)) when the request
// carries one; and, when a nonce key is configured, a server nonce (§8)
// that any instance holding the key accepts. Validate returns the key's
// RFC 7638 thumbprint, the "jkt" to bind tokens to (cnf.jkt, §6.1).
//
// JWK parsing and thumbprints come from go-jose v4, signature checks from
// golang-jwt v5: the package holds no curve code of its own.
//
// Every failure is an error that matches ErrInvalidProof with errors.Is,
// and a more precise sentinel (ErrReplay, ErrIssuedAt, ErrURL, ...) as
// well; ErrUseNonce (the "use_dpop_nonce" condition: send the proof again
// with a fresh nonce) and ErrCacheFull (a capacity problem, matching
// domain.ErrUnavailable) stand apart. Validate never panics on any input.
//
// The replay cache lives in memory and is per instance: the same proof
// sent to two instances within the window is accepted by both. Nonces
// shorten that window to the nonce lifetime but do not close it; see
// docs/dpop.md.
//
// Transport is the client side: an http.RoundTripper that signs a fresh
// proof for every request with an ES256 or Ed25519 key and follows the
// server's DPoP-Nonce.
package dpop
