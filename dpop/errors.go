package dpop

import (
	"errors"
	"fmt"

	"github.com/jwtauth/jwtauth/domain"
)

// ErrInvalidProof is matched by every rejection of a proof (RFC 9449
// error "invalid_dpop_proof"). The sentinels below wrap it and say why.
var ErrInvalidProof = errors.New("dpop: invalid proof")

// The reasons a proof is rejected. Each wraps ErrInvalidProof.
var (
	// ErrMissingProof: the request has no DPoP header, or more than one.
	ErrMissingProof = fmt.Errorf("%w: missing or repeated DPoP header", ErrInvalidProof)
	// ErrTooLarge: the proof is longer than Config.MaxProofSize.
	ErrTooLarge = fmt.Errorf("%w: proof too large", ErrInvalidProof)
	// ErrMalformed: not a compact JWS of JSON objects.
	ErrMalformed = fmt.Errorf("%w: malformed proof", ErrInvalidProof)
	// ErrType: the header's typ is not "dpop+jwt".
	ErrType = fmt.Errorf("%w: typ is not dpop+jwt", ErrInvalidProof)
	// ErrAlgorithm: the header's alg is not an allowed asymmetric algorithm.
	ErrAlgorithm = fmt.Errorf("%w: algorithm not allowed", ErrInvalidProof)
	// ErrKey: the jwk header is missing, unparsable, carries private
	// members or does not fit the algorithm.
	ErrKey = fmt.Errorf("%w: unusable jwk", ErrInvalidProof)
	// ErrSignature: the signature does not verify with the jwk.
	ErrSignature = fmt.Errorf("%w: bad signature", ErrInvalidProof)
	// ErrMissingClaim: jti, htm, htu or iat is absent or empty.
	ErrMissingClaim = fmt.Errorf("%w: missing claim", ErrInvalidProof)
	// ErrMethod: htm is not the request method.
	ErrMethod = fmt.Errorf("%w: htm does not match the request", ErrInvalidProof)
	// ErrURL: htu is not the request URL.
	ErrURL = fmt.Errorf("%w: htu does not match the request", ErrInvalidProof)
	// ErrIssuedAt: iat is older than MaxAge or further ahead than Skew.
	ErrIssuedAt = fmt.Errorf("%w: iat outside the accepted window", ErrInvalidProof)
	// ErrReplay: a proof with this key and jti was accepted before within
	// the window.
	ErrReplay = fmt.Errorf("%w: proof replayed", ErrInvalidProof)
	// ErrAccessTokenHash: ath is missing or is not the access token's hash.
	ErrAccessTokenHash = fmt.Errorf("%w: ath does not match the access token", ErrInvalidProof)
)

// ErrUseNonce is the RFC 9449 §8 "use_dpop_nonce" condition: nonces are
// required and the proof carries none, or one that is not valid (any
// more). The caller answers with a fresh nonce (Validator.Nonce) in the
// DPoP-Nonce header, and the client retries. It does not wrap
// ErrInvalidProof, since the response differs.
var ErrUseNonce = errors.New("dpop: use_dpop_nonce")

// ErrCacheFull: the replay cache holds Config.ReplayCacheSize unexpired
// entries, so a new proof cannot be remembered and is refused (the check
// fails closed). It wraps domain.ErrUnavailable: the server is over
// capacity, the proof is not at fault.
var ErrCacheFull = fmt.Errorf("%w: dpop replay cache full", domain.ErrUnavailable)
