package app

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtauth/jwtauth/domain"
)

// Config tunes a Service. The zero value of every field means its default.
type Config struct {
	// AccessTTL is the lifetime of access tokens. Default 10m.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens. Default 720h.
	RefreshTTL time.Duration
	// DevicePolicy limits concurrent devices. Default: no limit; when a
	// limit is set without an action, EvictOldest.
	DevicePolicy domain.DevicePolicy
	// MaxSessions caps a user's live sessions whatever the device policy:
	// a login past it revokes the ended, then the least recently seen
	// ones. It bounds the state, and so the cost, of every per-user
	// operation. Default domain.DefaultMaxSessions (50); must not be
	// negative.
	MaxSessions int
	// IPBinding binds access tokens to the client IP. Default IPStrict.
	IPBinding domain.IPBinding
	// RotateRefresh issues a new refresh token on every refresh and treats
	// an old one as reuse. Default false.
	RotateRefresh bool
	// ReuseGrace is how long after a rotation the previous refresh token is
	// still accepted (two tabs refreshing at once). Default 10s; negative
	// means no grace.
	ReuseGrace time.Duration
	// SessionMaxAge is a session's absolute lifetime; refreshes never
	// extend it. Default RefreshTTL.
	SessionMaxAge time.Duration
	// IdleTimeout ends a session not refreshed for this long. Default 0
	// (off).
	IdleTimeout time.Duration
	// UserFromToken takes the user claims from the access token instead of
	// calling the UserLoader on every request. Default false. When U is
	// plain data (booleans, numbers, strings, arrays and structs of them,
	// no custom unmarshalers), the Service remembers the claims of up to
	// 1024 recent distinct "usr" JSON texts instead of decoding them again.
	UserFromToken bool
	// TokenMemo is the number of access tokens remembered as verified:
	// a token presented again, while it is valid by the codec's clock, is
	// not decrypted, verified and decoded again (its client binding,
	// generation and session are checked on every request all the same).
	// The Service keeps a copy of each token and its claims in memory,
	// next to the keys. It needs a codec that tells its clock
	// (jwtcodec.Codec does) and, with UserFromToken, plain-data user
	// claims (as above); otherwise it is off. Default DefaultTokenMemo (4096); negative turns it off;
	// at most MaxTokenMemo.
	TokenMemo int
	// Issuer and Audience are written to every token (iss, aud). Default
	// empty (not written). The codec checks them when configured.
	Issuer   string
	Audience []string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MeterProvider and TracerProvider receive the metrics and spans of
	// the use cases (see ScopeName). Default: the global providers of
	// go.opentelemetry.io/otel, which are no-ops until the application
	// sets them.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
}

// withDefaults returns c with defaults applied, or an error naming the
// first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.AccessTTL == 0 {
		c.AccessTTL = 10 * time.Minute
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 720 * time.Hour
	}
	if c.SessionMaxAge == 0 {
		c.SessionMaxAge = c.RefreshTTL
	}
	if c.ReuseGrace == 0 {
		c.ReuseGrace = 10 * time.Second
	} else if c.ReuseGrace < 0 {
		c.ReuseGrace = 0
	}
	if c.IPBinding == "" {
		c.IPBinding = domain.IPStrict
	}
	if c.DevicePolicy.OnLimit == "" {
		c.DevicePolicy.OnLimit = domain.EvictOldest
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.TokenMemo == 0 {
		c.TokenMemo = DefaultTokenMemo
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = domain.DefaultMaxSessions
	}
	switch {
	case c.AccessTTL < 0:
		return c, fmt.Errorf("%w: AccessTTL must be positive", domain.ErrInvalidArgument)
	case c.RefreshTTL < 0:
		return c, fmt.Errorf("%w: RefreshTTL must be positive", domain.ErrInvalidArgument)
	case c.SessionMaxAge < 0:
		return c, fmt.Errorf("%w: SessionMaxAge must be positive", domain.ErrInvalidArgument)
	case c.IdleTimeout < 0:
		return c, fmt.Errorf("%w: IdleTimeout must not be negative", domain.ErrInvalidArgument)
	case c.IdleTimeout > 0 && c.IdleTimeout <= c.AccessTTL:
		// Only refreshes move last seen, and a busy client refreshes once
		// per access token: a shorter idle timeout would log it out.
		return c, fmt.Errorf("%w: IdleTimeout must be longer than AccessTTL", domain.ErrInvalidArgument)
	case c.TokenMemo > MaxTokenMemo:
		return c, fmt.Errorf("%w: TokenMemo must be at most %d", domain.ErrInvalidArgument, MaxTokenMemo)
	case c.MaxSessions < 0:
		return c, fmt.Errorf("%w: MaxSessions must not be negative", domain.ErrInvalidArgument)
	case c.DevicePolicy.Limit < 0:
		return c, fmt.Errorf("%w: DevicePolicy.Limit must not be negative", domain.ErrInvalidArgument)
	}
	if _, err := domain.ParseIPBinding(string(c.IPBinding)); err != nil {
		return c, err
	}
	if _, err := domain.ParseLimitAction(string(c.DevicePolicy.OnLimit)); err != nil {
		return c, err
	}
	return c, nil
}
