package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
)

// DPoP is both adapters' DPoP (RFC 9449) setting. The zero value is off:
// the DPoP authorization scheme is unknown (401 as a request without a
// token), DPoP headers are ignored and no token is bound.
type DPoP struct {
	// Validator checks proofs. nil: DPoP is off.
	Validator *dpop.Validator
	// Required refuses every login, refresh and authenticated request
	// without a valid proof, so that only bound tokens are issued and
	// accepted. The browser group, whose cookies cannot carry proofs,
	// then refuses to log in.
	Required bool
}

// TokenTypeDPoP is the "token_type" of bound tokens (RFC 9449 §5).
const TokenTypeDPoP = "DPoP"

// The DPoP error codes (RFC 9449 §7.1, §8).
const (
	CodeInvalidDPoPProof = "invalid_dpop_proof"
	CodeUseDPoPNonce     = "use_dpop_nonce"
)

// errBrowserNeedsDPoP: a browser-group login while DPoP is required.
var errBrowserNeedsDPoP = fmt.Errorf("%w: DPoP is required and browser-group cookies cannot be bound to a key", dpop.ErrInvalidProof)

// dpopError is an error of a request to a DPoP-enabled route: beside the
// error table it carries what the answer needs, the accepted algorithms
// for the WWW-Authenticate: DPoP challenge and a fresh nonce when nonces
// are on, and whether the route is a token route (login, refresh: RFC
// 9449 §5 and §8 answer a proof error 400 without a challenge) or a
// resource route (401 with the DPoP challenge).
type dpopError struct {
	err   error
	algs  string
	nonce string
	token bool
	// scheme: the request presented its token with the DPoP scheme, so
	// a token error's challenge is a DPoP one (RFC 9449 §7.1).
	scheme bool
}

func (e *dpopError) Error() string { return e.err.Error() }
func (e *dpopError) Unwrap() error { return e.err }

// wrap returns err as a dpopError of a token route (token) or a resource
// route, or err itself when DPoP is off or err is nil.
func (d DPoP) wrap(err error, token bool) error { return d.wrapScheme(err, token, false) }

// wrapScheme is wrap for a request that used the DPoP scheme or not.
func (d DPoP) wrapScheme(err error, token, scheme bool) error {
	if err == nil || d.Validator == nil {
		return err
	}
	var de *dpopError
	if errors.As(err, &de) {
		return err
	}
	e := &dpopError{err: err, algs: d.Validator.Algorithms(), token: token, scheme: scheme}
	if errors.Is(err, dpop.ErrUseNonce) || (token && isProofProblem(err)) {
		e.nonce = d.Validator.Nonce()
	}
	return e
}

// isProofProblem reports whether err is answered with a DPoP error code.
func isProofProblem(err error) bool {
	return errors.Is(err, dpop.ErrInvalidProof) || errors.Is(err, dpop.ErrUseNonce) || errors.Is(err, domain.ErrKeyMismatch)
}

// adjust applies e to the table's problem p.
func (e *dpopError) adjust(p Problem) Problem {
	p.Nonce = e.nonce
	if p.Code == CodeInvalidDPoPProof || p.Code == CodeUseDPoPNonce {
		if e.token {
			p.Status, p.DPoP = http.StatusBadRequest, false
			return p
		}
		p.DPoP = true
	}
	p.Algs = e.algs
	p.DPoPScheme = e.scheme && p.Status == http.StatusUnauthorized
	return p
}

// The proofs below are checked, not spent: a handler spends a proof (d.spend)
// only once the request is known to be authorized, just before acting on
// it, so that requests it refuses take no room in the validator's bounded
// replay cache (see dpop.Validator.Spend).

// canonicalDPoP is the DPoP header's key in http.Header ("Dpop"),
// looked up without a conversion per request.
var canonicalDPoP = http.CanonicalHeaderKey("DPoP")

// tokenProof checks the DPoP proof of a token request (login, refresh,
// verify) against the request's method and URL, ath being the hash of
// accessToken when it is not "". Without a DPoP header it returns the
// zero Proof (an unbound request), or the missing-proof error when proofs
// are required. With DPoP off it always returns the zero Proof.
func (d DPoP) tokenProof(r *http.Request, accessToken string) (dpop.Proof, error) {
	if d.Validator == nil {
		return dpop.Proof{}, nil
	}
	if len(r.Header[canonicalDPoP]) == 0 && !d.Required {
		return dpop.Proof{}, nil
	}
	return d.Validator.CheckRequest(r, accessToken)
}

// resourceProof checks the proof of a request that presents an access
// token: with the DPoP scheme (isDPoP) a proof for the token is required;
// with Bearer or a cookie the request proves no key, which Required
// refuses.
func (d DPoP) resourceProof(r *http.Request, accessToken string, isDPoP bool) (dpop.Proof, error) {
	switch {
	case d.Validator == nil && isDPoP:
		return dpop.Proof{}, fmt.Errorf("%w: the DPoP scheme is not enabled", domain.ErrMissingToken)
	case d.Validator == nil:
		return dpop.Proof{}, nil
	case !isDPoP && d.Required:
		return dpop.Proof{}, fmt.Errorf("%w: DPoP is required: send Authorization: DPoP with a proof", dpop.ErrMissingProof)
	case !isDPoP:
		return dpop.Proof{}, nil
	}
	return d.Validator.CheckRequest(r, accessToken)
}

// spend remembers a checked proof against replay; the zero Proof (none)
// needs nothing.
func (d DPoP) spend(p dpop.Proof) error {
	if p.JKT == "" {
		return nil
	}
	return d.Validator.Spend(p)
}

// tokenType is the token_type of tokens bound to jkt.
func tokenType(jkt string) string {
	if jkt != "" {
		return TokenTypeDPoP
	}
	return TokenType
}

// setNonce sets a fresh DPoP-Nonce on a successful token response when
// nonces are on, so that clients always hold a live one.
func (d DPoP) setNonce(w http.ResponseWriter) {
	if d.Validator != nil && d.Validator.NoncesRequired() {
		w.Header().Set("DPoP-Nonce", d.Validator.Nonce())
	}
}
