package jwtauth

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/jwtauth/jwtauth/dpop"
)

// dpopConfig returns the dpop.Config of c, nonceKey standing in for the
// key derived from the signing key.
func (c Config) dpopConfig(nonceKey []byte) dpop.Config {
	cfg := dpop.Config{
		Algorithms: c.DPoPAlgs,
		MaxAge:     c.DPoPMaxAge,
		Skew:       c.ClockSkew,
		PublicURL:  c.PublicURL,
	}
	if c.ClockSkew == 0 {
		cfg.Skew = dpop.NoSkew // "0: none", as for tokens
	}
	if c.DPoPNonce {
		cfg.NonceKey = nonceKey
	}
	return cfg
}

// checkDPoP validates the DPoP settings, whatever JWTAUTH_DPOP says, so
// that a typo is found before DPoP is turned on.
func (c Config) checkDPoP() error {
	bad := func(name, msg string) error { return fmt.Errorf("%w: %s %s", ErrConfig, name, msg) }
	switch c.DPoP {
	case DPoPOff, DPoPAllowed, DPoPRequired:
	default:
		return bad("JWTAUTH_DPOP", "must be off, allowed or required")
	}
	if c.DPoPMaxAge < 0 {
		return bad("JWTAUTH_DPOP_MAX_AGE", "must be positive")
	}
	for _, a := range c.DPoPAlgs {
		if _, err := dpop.New(dpop.Config{Algorithms: []string{a}}); err != nil {
			return bad("JWTAUTH_DPOP_ALGS", fmt.Sprintf("%q is not an asymmetric JWS algorithm (ES256, ES384, ES512, EdDSA, RS256, PS256, ...)", a))
		}
	}
	if c.PublicURL != "" {
		if _, err := dpop.New(dpop.Config{PublicURL: c.PublicURL}); err != nil {
			return bad("JWTAUTH_PUBLIC_URL", "must be an http(s) base URL without query, fragment or user, like https://auth.example.com")
		}
	}
	return nil
}

// nonceKeyInfo separates the nonce key from every other use of the
// signing key.
const nonceKeyInfo = "jwtauth DPoP nonce key v1"

// DPoPValidator returns the DPoP proof validator of c for the transports'
// Config.DPoP (with DPoPRequired = c.DPoP == DPoPRequired), or nil when
// JWTAUTH_DPOP is off. Nonces, when on, are made with a key derived from
// SigningKey by HKDF-SHA256, so every instance sharing the signing key
// accepts every instance's nonces; SigningKey must then be set.
func (c Config) DPoPValidator() (*dpop.Validator, error) {
	if c.DPoP == DPoPOff || c.DPoP == "" {
		return nil, nil
	}
	var key []byte
	if c.DPoPNonce {
		if len(c.SigningKey) == 0 {
			return nil, fmt.Errorf("%w: JWTAUTH_DPOP_NONCE needs JWTAUTH_SIGNING_KEY", ErrConfig)
		}
		var err error
		if key, err = hkdf.Key(sha256.New, c.SigningKey, nil, nonceKeyInfo, 32); err != nil {
			return nil, fmt.Errorf("%w: derive the DPoP nonce key: %w", ErrConfig, err)
		}
	}
	v, err := dpop.New(c.dpopConfig(key))
	if err != nil {
		return nil, errors.Join(ErrConfig, err)
	}
	return v, nil
}
