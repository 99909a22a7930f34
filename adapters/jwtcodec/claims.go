package jwtcodec

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtauth/jwtauth/domain"
)

// claims is the JSON form of a token's payload. It implements jwt.Claims
// and jwt.ClaimsValidator so that golang-jwt's Validator checks it.
type claims struct {
	Issuer         string           `json:"iss,omitempty"`
	Audience       jwt.ClaimStrings `json:"aud,omitempty"`
	Subject        string           `json:"sub"`
	ExpiresAt      numericDate      `json:"exp,omitzero"`
	NotBefore      numericDate      `json:"nbf,omitzero"`
	IssuedAt       numericDate      `json:"iat,omitzero"`
	ID             string           `json:"jti,omitempty"`
	Type           string           `json:"typ"`
	SessionID      string           `json:"sid"`
	Generation     string           `json:"gen"`
	IP             netip.Addr       `json:"ip,omitzero"`
	DeviceID       string           `json:"dev,omitempty"`
	User           any              `json:"usr,omitempty"`
	RefreshCounter uint64           `json:"rfc,omitempty"`
	Confirmation   confirmation     `json:"cnf,omitzero"`
}

// confirmation is the "cnf" claim (RFC 7800) of a DPoP-bound token: the
// key's thumbprint (RFC 9449 §6.1).
type confirmation struct {
	JKT string `json:"jkt,omitempty"`
}

func newClaims(c domain.Claims, user any) *claims {
	return &claims{
		Issuer:         c.Issuer,
		Audience:       jwt.ClaimStrings(c.Audience),
		Subject:        c.Subject,
		ExpiresAt:      newNumericDate(c.ExpiresAt),
		NotBefore:      newNumericDate(c.NotBefore),
		IssuedAt:       newNumericDate(c.IssuedAt),
		ID:             c.ID,
		Type:           string(c.Type),
		SessionID:      c.SessionID,
		Generation:     c.Generation,
		IP:             c.IP,
		DeviceID:       c.DeviceID,
		User:           user,
		RefreshCounter: c.RefreshCounter,
		Confirmation:   confirmation{JKT: c.JKT},
	}
}

// domain returns the claims as domain.Claims. Call it after Validate.
func (c *claims) domain() domain.Claims {
	return domain.Claims{
		Issuer:         c.Issuer,
		Audience:       c.Audience,
		Subject:        c.Subject,
		ExpiresAt:      c.ExpiresAt.Time,
		NotBefore:      c.NotBefore.Time,
		IssuedAt:       c.IssuedAt.Time,
		ID:             c.ID,
		Type:           domain.TokenType(c.Type),
		SessionID:      c.SessionID,
		Generation:     c.Generation,
		IP:             c.IP,
		DeviceID:       c.DeviceID,
		RefreshCounter: c.RefreshCounter,
		JKT:            c.Confirmation.JKT,
	}
}

// GetExpirationTime implements jwt.Claims.
func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.ptr(), nil }

// GetIssuedAt implements jwt.Claims.
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt.ptr(), nil }

// GetNotBefore implements jwt.Claims.
func (c *claims) GetNotBefore() (*jwt.NumericDate, error) { return c.NotBefore.ptr(), nil }

// GetIssuer implements jwt.Claims.
func (c *claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *claims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *claims) GetAudience() (jwt.ClaimStrings, error) { return c.Audience, nil }

var (
	errClaimsMissing = fmt.Errorf("%w: sub, sid and gen are required", jwt.ErrTokenRequiredClaimMissing)
	errClaimType     = fmt.Errorf("%w: typ must be access or refresh", jwt.ErrTokenInvalidClaims)
)

// Validate implements jwt.ClaimsValidator: it checks the jwtauth claims
// golang-jwt does not know about.
func (c *claims) Validate() error {
	if _, err := domain.ParseTokenType(c.Type); err != nil {
		return errClaimType
	}
	if c.Subject == "" || c.SessionID == "" || c.Generation == "" {
		return errClaimsMissing
	}
	return nil
}

// numericDate is a jwt.NumericDate (seconds since the epoch) that decodes
// without allocating. The zero value means "absent".
type numericDate struct{ jwt.NumericDate }

// maxNumericDate bounds decoded dates so that they convert to int64 exactly.
const maxNumericDate = 1 << 53

var errNumericDate = errors.New("jwtcodec: NumericDate must be a number of seconds")

func newNumericDate(t time.Time) numericDate {
	if t.IsZero() {
		return numericDate{}
	}
	return numericDate{*jwt.NewNumericDate(t)}
}

// ptr returns d for golang-jwt's Validator, or nil when d is absent.
func (d *numericDate) ptr() *jwt.NumericDate {
	if d.IsZero() {
		return nil
	}
	return &d.NumericDate
}

// UnmarshalJSON decodes a JSON number of seconds. null leaves d absent.
func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if sec, ok := smallInt(b); ok { // what Sign writes: exact as a float too
		d.NumericDate = jwt.NumericDate{Time: time.Unix(sec, 0)} // whole seconds: NewNumericDate's truncation is a no-op
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.Abs(f) > maxNumericDate {
		return errNumericDate
	}
	sec, frac := math.Modf(f)
	d.NumericDate = *jwt.NewNumericDate(time.Unix(int64(sec), int64(frac*1e9)))
	return nil
}

// smallInt returns the value of b when it is 1 to 15 decimal digits
// without a leading zero: below 2^53, so ParseFloat would give it exactly.
func smallInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// skipJSON discards a JSON value without allocating: it stands in for the
// "usr" claim when the caller does not want it.
type skipJSON struct{}

// UnmarshalJSON discards b.
func (*skipJSON) UnmarshalJSON([]byte) error { return nil }
