package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
)

// maxInspectInput bounds what inspect reads from stdin.
const maxInspectInput = 64 << 10

// inspection is what inspect prints, as indented JSON.
type inspection struct {
	// Encrypted: the token was a JWE (decrypted with the configured ring).
	Encrypted bool `json:"encrypted"`
	// JWEHeader is the protected header of the JWE (alg, enc, cty, kid).
	JWEHeader json.RawMessage `json:"jwe_header,omitempty"`
	// JWSHeader is the header of the signed inner token.
	JWSHeader json.RawMessage `json:"jws_header"`
	// Claims are the inner token's claims.
	Claims json.RawMessage `json:"claims"`
	// Signature: "valid", "invalid", or why it could not be checked.
	Signature string `json:"signature"`
	// Validation is "ok" when the token passes every check of the codec
	// (signature, algorithm, exp, nbf, iat, iss, aud, required claims) and
	// is not known to be revoked, else the reason.
	Validation string `json:"validation"`
	// Revocation says whether the configured store was asked and, if so,
	// whether the token is revoked.
	Revocation revocation `json:"revocation"`
	// Expiry describes the exp claim.
	Expiry expiry `json:"expiry"`
}

type expiry struct {
	ExpiresAt string `json:"expires_at,omitempty"` // RFC 3339, UTC
	Expired   bool   `json:"expired"`
	// In is the time left (negative: since expiry), rounded to seconds.
	In string `json:"in,omitempty"`
}

// runInspect decrypts a token with the configured keys and prints its
// headers, claims, signature check and expiry. It exits 1 when the token
// cannot be decrypted or decoded, or its signature is invalid.
func runInspect(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "jwtauth inspect: want one argument, the token or - for stdin\n\n%s", commandUsage["inspect"])
		return 2
	}
	raw := args[0]
	if raw == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, maxInspectInput+1))
		if err != nil || len(b) > maxInspectInput {
			fmt.Fprintln(stderr, "jwtauth inspect: cannot read the token from stdin (at most 64 KiB)")
			return 1
		}
		raw = string(b)
	}
	raw = strings.TrimSpace(raw)
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	cfg, err := jwtauth.LoadConfig(lookup)
	if err == nil {
		err = cfg.DevKeys(slog.New(slog.DiscardHandler), false) // reads only; nothing in production
	}
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth inspect: %v\n", err)
		return 2
	}
	out, err := inspect(raw, cfg, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth inspect: %v\n", err)
		return 1
	}
	if out.Signature == "valid" {
		out.Revocation = checkRevocation(ctx, cfg, out.Claims)
	} else {
		out.Revocation = notChecked("the signature is not valid")
	}
	if out.Revocation.Revoked != nil && *out.Revocation.Revoked && out.Validation == "ok" {
		out.Validation = "revoked: " + out.Revocation.Reason
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(out)
	if out.Signature != "valid" {
		return 1
	}
	return 0
}

// inspect decodes raw, a JWE (five parts) or JWS (three parts).
func inspect(raw string, cfg jwtauth.Config, now time.Time) (inspection, error) {
	var out inspection
	jws := raw
	switch strings.Count(raw, ".") {
	case 4:
		out.Encrypted = true
		hdr, err := segmentJSON(raw[:strings.IndexByte(raw, '.')])
		if err != nil {
			return out, fmt.Errorf("not a token: the JWE header is not base64url JSON")
		}
		out.JWEHeader = hdr
		if len(cfg.EncryptionKeys) == 0 {
			return out, errors.New("cannot decrypt: no encryption keys configured (JWTAUTH_ENCRYPTION_KEYS)")
		}
		keys := make([]jwe.Key, len(cfg.EncryptionKeys))
		for i, k := range cfg.EncryptionKeys {
			keys[i] = jwe.Key{ID: k.ID, Secret: k.Secret}
		}
		c, err := jwe.New(keys...)
		if err != nil {
			return out, fmt.Errorf("JWTAUTH_ENCRYPTION_KEYS: %w", err)
		}
		plain, err := c.Decrypt(raw)
		if err != nil {
			return out, fmt.Errorf("cannot decrypt the token with the configured keys (JWTAUTH_ENCRYPTION_KEYS): %w", err)
		}
		jws = string(plain)
		if strings.Count(jws, ".") != 2 {
			return out, errors.New("the decrypted payload is not a signed JWT")
		}
	case 2:
	default:
		return out, errors.New("not a token: want a JWE (five dot-separated parts) or a JWT (three)")
	}
	parts := strings.SplitN(jws, ".", 3)
	var err error
	if out.JWSHeader, err = segmentJSON(parts[0]); err != nil {
		return out, errors.New("not a token: the JWT header is not base64url JSON")
	}
	if out.Claims, err = segmentJSON(parts[1]); err != nil {
		return out, errors.New("not a token: the JWT claims are not base64url JSON")
	}
	out.Signature = checkSignature(jws, cfg)
	out.Validation = validate(jws, cfg, now)
	out.Expiry = expiryOf(out.Claims, now)
	return out, nil
}

// segmentJSON decodes a base64url segment holding a JSON object.
func segmentJSON(seg string) (json.RawMessage, error) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkSignature verifies only the signature, with the configured key and
// algorithm.
func checkSignature(jws string, cfg jwtauth.Config) string {
	if len(cfg.SigningKey) == 0 {
		return "not checked: no signing key configured (JWTAUTH_SIGNING_KEY)"
	}
	p := jwt.NewParser(jwt.WithValidMethods([]string{cfg.SigningAlg}), jwt.WithoutClaimsValidation())
	_, err := p.Parse(jws, func(*jwt.Token) (any, error) { return []byte(cfg.SigningKey), nil })
	switch {
	case err == nil:
		return "valid"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "invalid"
	default:
		return "invalid: " + err.Error()
	}
}

// validate runs the library's own codec checks.
func validate(jws string, cfg jwtauth.Config, now time.Time) string {
	if len(cfg.SigningKey) == 0 {
		return "not checked: no signing key configured (JWTAUTH_SIGNING_KEY)"
	}
	codec, err := jwtcodec.New(jwtcodec.Config{
		Method: cfg.SigningAlg, Key: cfg.SigningKey, Issuer: cfg.Issuer, Audience: cfg.Audience,
		Now: func() time.Time { return now },
	})
	if err != nil {
		return "not checked: " + err.Error()
	}
	if _, err := codec.Parse([]byte(jws), nil); err != nil {
		return err.Error()
	}
	return "ok"
}

// expiryOf reads the exp claim.
func expiryOf(claims json.RawMessage, now time.Time) expiry {
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(claims, &c) != nil || c.Exp == nil {
		return expiry{}
	}
	exp := time.Unix(int64(*c.Exp), 0).UTC()
	return expiry{
		ExpiresAt: exp.Format(time.RFC3339),
		Expired:   !now.Before(exp),
		In:        exp.Sub(now).Round(time.Second).String(),
	}
}
