package ports

import (
	"context"
	"time"

	"github.com/jwtauth/jwtauth/domain"
)

// UserChange is what a locked update writes back. The zero value changes
// nothing.
type UserChange struct {
	// NewAccessGeneration / NewRefreshGeneration, when not empty, replace
	// the current generation: every token of that type is revoked.
	NewAccessGeneration  string
	NewRefreshGeneration string
	// Put inserts sessions, or replaces them by id; a revoked session
	// stays revoked, and a session's DPoP key (JKT) never changes.
	Put []domain.Session
	// Revoke marks these sessions (of this user) revoked at RevokedAt.
	Revoke    []string
	RevokedAt time.Time
}

// Store persists generations and sessions.
//
// Every method returns an error wrapping domain.ErrUnavailable when the
// database cannot answer, so that callers fail closed.
type Store interface {
	// Generation returns the user's current generation for typ, or "" (and
	// no error) when the user has none.
	Generation(ctx context.Context, userID string, typ domain.TokenType) (string, error)
	// Session returns the session with this id, revoked or not, or
	// domain.ErrSessionNotFound.
	Session(ctx context.Context, sessionID string) (domain.Session, error)
	// Sessions returns the user's sessions that are not revoked, oldest
	// first.
	Sessions(ctx context.Context, userID string) ([]domain.Session, error)
	// UpdateUser locks the user (creating its generations if missing),
	// loads its state, calls fn once and applies the change fn returns, all
	// in one transaction. Concurrent updates of one user serialize; updates
	// of different users do not block each other. When fn returns an error
	// nothing is written and UpdateUser returns that error. Stores that
	// feed an invalidation bus announce rotated generations, and written or
	// revoked sessions (see GenerationKey, SessionKey), only when the change
	// commits: a refresh moves a session's last-seen time, which other
	// instances cache for the idle timeout.
	UpdateUser(ctx context.Context, userID string, fn func(domain.UserAuth) (UserChange, error)) error
	// Prune deletes sessions that expired or were revoked before before,
	// and, when idleBefore is not zero, sessions last seen before
	// idleBefore. It returns how many it deleted.
	Prune(ctx context.Context, before, idleBefore time.Time) (int64, error)
}

// Cache is a process-local byte cache for generation and session lookups.
// It never returns errors: a failed read is a miss, a failed write is
// dropped, and the store remains the source of truth.
type Cache interface {
	Get(key string) ([]byte, bool)
	Set(key string, value []byte)
	Delete(keys ...string)
	// Reset drops every entry.
	Reset()
}

// Bus delivers invalidations from every instance to this one.
type Bus interface {
	// Subscribe calls fn with the keys of each invalidation, published by
	// any instance. A nil keys slice means "everything" (for example after
	// the bus lost and regained its connection). fn must be fast and safe
	// for concurrent use.
	Subscribe(fn func(keys []string))
	// Healthy reports whether the bus is receiving right now. While it is
	// not, invalidations may be missed, so cached entries must be bypassed.
	Healthy() bool
}

// Syncer is a Bus that can confirm delivery. Sync returns once every
// invalidation committed before it was called has reached this instance's
// own listener, and so has been sent to every listening instance (the
// database delivers notifications in commit order). It returns an error
// wrapping domain.ErrUnavailable when it cannot confirm that in time.
// Revoking use cases call it before they return.
type Syncer interface {
	Sync(ctx context.Context) error
}

// Publisher sends invalidations to every instance's Bus. Stores call it;
// the use cases do not.
type Publisher interface {
	Publish(ctx context.Context, keys ...string) error
}

// GenerationKey is the cache and bus key of a user's generation.
func GenerationKey(userID string, typ domain.TokenType) string {
	return "user:" + userID + ":" + string(typ) + ":gen"
}

// SessionKey is the cache and bus key of a session's status.
func SessionKey(sessionID string) string { return "session:" + sessionID }

// TokenCodec signs and parses the inner JWT.
type TokenCodec interface {
	// Sign returns the compact JWS of c. A non-nil user is encoded as the
	// "usr" claim.
	Sign(c domain.Claims, user any) (string, error)
	// Parse verifies token (algorithm whitelist, signature, exp required,
	// nbf, iat, iss and aud when configured) and returns its claims. When
	// user is a non-nil pointer the "usr" claim is decoded into it.
	// Errors wrap domain.ErrMalformed, ErrInvalid or ErrExpired. Nothing
	// returned refers to token's memory, which the caller may reuse.
	Parse(token []byte, user any) (domain.Claims, error)
}

// Cipher encrypts signed tokens (JWE compact, dir + A256GCM).
type Cipher interface {
	// Encrypt returns the compact JWE of plaintext under the current key.
	Encrypt(plaintext []byte) (string, error)
	// Decrypt returns the plaintext of a compact JWE. Errors wrap
	// domain.ErrMalformed (structure) or domain.ErrInvalid (authentication,
	// unknown key id, unsupported header).
	Decrypt(token string) ([]byte, error)
}

// UserLoader loads the application's user claims for a user id. The
// application implements it. It returns an error wrapping
// domain.ErrRevoked when the user no longer exists, and
// domain.ErrUnavailable when its store cannot answer.
type UserLoader[U any] interface {
	LoadUser(ctx context.Context, userID string) (U, error)
}

// UserLoaderFunc adapts a function to UserLoader.
type UserLoaderFunc[U any] func(ctx context.Context, userID string) (U, error)

// LoadUser calls f.
func (f UserLoaderFunc[U]) LoadUser(ctx context.Context, userID string) (U, error) {
	return f(ctx, userID)
}
