package app

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// decode decrypts and parses raw. When user is a non-nil pointer the user
// claims are decoded into it.
func (s *Service[U]) decode(raw string, user any) (domain.Claims, error) {
	if s.decrypter != nil {
		// AppendDecrypt refuses what domain.Token.Check would, and more:
		// every byte but the four dots must belong to a base64url segment
		// of the exact length, so a second scan of the token is waste.
		bp := jwsBufs.Get().(*[]byte)
		jws, err := s.decrypter.AppendDecrypt((*bp)[:0], raw)
		if err != nil {
			jwsBufs.Put(bp)
			return domain.Claims{}, err
		}
		c, err := s.deps.Codec.Parse(jws, user) // which does not retain jws
		*bp = jws[:0]
		jwsBufs.Put(bp)
		return c, err
	}
	if err := domain.Token(raw).Check(); err != nil {
		return domain.Claims{}, err
	}
	var jws []byte
	if s.deps.Cipher != nil {
		var err error
		if jws, err = s.deps.Cipher.Decrypt(raw); err != nil {
			return domain.Claims{}, err
		}
	} else {
		jws = []byte(raw)
	}
	return s.deps.Codec.Parse(jws, user)
}

// appendDecrypter is a Cipher that decrypts into the caller's buffer
// (jwe.Cipher), which spares decode allocating one per token. It must
// refuse, with an error wrapping domain.ErrMalformed, every token that
// domain.Token.Check refuses: decode does not check before it.
type appendDecrypter interface {
	AppendDecrypt(dst []byte, token string) ([]byte, error)
}

// jwsBufs holds the buffers decode decrypts into; at most MaxTokenLen
// bytes each.
var jwsBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// mint signs (and encrypts) the tokens of a session.
func (s *Service[U]) mint(sess domain.Session, user U, accessGen, refreshGen string, withRefresh bool) (Pair, error) {
	now := s.cfg.Now()
	pair := Pair{SessionID: sess.ID, IssuedAt: now, JKT: sess.JKT}
	c := domain.Claims{
		Issuer:     s.cfg.Issuer,
		Audience:   s.cfg.Audience,
		Subject:    sess.UserID,
		IssuedAt:   now,
		NotBefore:  now,
		ExpiresAt:  earliest(now.Add(s.cfg.AccessTTL), sess.ExpiresAt),
		ID:         domain.NewID(),
		Type:       domain.Access,
		SessionID:  sess.ID,
		Generation: accessGen,
		IP:         sess.IP,
		DeviceID:   sess.DeviceID,
		JKT:        sess.JKT,
	}
	var usr any // user claims travel in the token only when read from it
	if s.cfg.UserFromToken {
		usr = &user
	}
	var err error
	if pair.AccessToken, err = s.seal(c, usr); err != nil {
		return Pair{}, err
	}
	pair.AccessExpiresAt = c.ExpiresAt
	if !withRefresh {
		return pair, nil
	}
	c.ID = domain.NewID()
	c.Type = domain.Refresh
	c.Generation = refreshGen
	c.RefreshCounter = sess.RefreshCounter
	c.ExpiresAt = earliest(now.Add(s.cfg.RefreshTTL), sess.ExpiresAt)
	if pair.RefreshToken, err = s.seal(c, nil); err != nil {
		return Pair{}, err
	}
	pair.RefreshExpiresAt = c.ExpiresAt
	return pair, nil
}

func (s *Service[U]) seal(c domain.Claims, user any) (string, error) {
	jws, err := s.deps.Codec.Sign(c, user)
	if err != nil {
		return "", err
	}
	if s.deps.Cipher == nil {
		return jws, nil
	}
	return s.deps.Cipher.Encrypt([]byte(jws))
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// cache returns the cache when it may be trusted: present, and fed by a
// healthy bus when there is one.
func (s *Service[U]) cache() ports.Cache {
	if s.deps.Cache == nil {
		return nil
	}
	if s.deps.Bus != nil && !s.deps.Bus.Healthy() {
		s.tel.lookup(cacheBypassed)
		return nil
	}
	return s.deps.Cache
}

// partsCache is a Cache that looks generations and session statuses up by
// the parts of their keys (bcache.Cache), which spares Authenticate
// building two keys and a generation's text: three allocations.
type partsCache interface {
	GenerationIs(userID string, typ domain.TokenType, gen string) (match, found bool)
	SessionStatus(sessionID string) ([]byte, bool)
}

// cacheResult is the telemetry result of a lookup.
func cacheResult(found bool) int {
	if found {
		return cacheHit
	}
	return cacheMiss
}

func (s *Service[U]) checkGeneration(ctx context.Context, c domain.Claims) error {
	cache := s.cache()
	if cache != nil {
		var match, found bool
		if s.parts != nil {
			match, found = s.parts.GenerationIs(c.Subject, c.Type, c.Generation)
			s.tel.lookup(cacheResult(found))
		} else {
			var gen []byte
			gen, found = cache.Get(ports.GenerationKey(c.Subject, c.Type))
			match = string(gen) == c.Generation
		}
		if found {
			if !match {
				return fmt.Errorf("%w: generation rotated", domain.ErrRevoked)
			}
			return nil
		}
	}
	key := ports.GenerationKey(c.Subject, c.Type)
	epoch := s.epoch.Load()
	gen, err := s.deps.Store.Generation(ctx, c.Subject, c.Type)
	if err != nil {
		return err
	}
	if cache != nil && gen != "" {
		s.fill(cache, key, []byte(gen), epoch)
	}
	if gen == "" || gen != c.Generation {
		return fmt.Errorf("%w: generation rotated", domain.ErrRevoked)
	}
	return nil
}

// A cached session status is 13 bytes: a revoked flag, the expiry (Unix
// nanoseconds) and a 32-bit FNV-1a hash of the user id, big endian. The
// hash keeps entries small (a million fit in under 100 MB); it only
// re-checks that a signed token's session belongs to its subject, which
// the signature already guarantees. The idle timeout needs no last-seen
// time here: it is longer than the access TTL (Config checks), so an
// access token always expires before its session goes idle.
func encodeStatus(sess domain.Session) []byte {
	b := make([]byte, statusLen)
	if !sess.RevokedAt.IsZero() {
		b[0] = 1
	}
	binary.BigEndian.PutUint64(b[1:9], uint64(sess.ExpiresAt.UnixNano()))
	binary.BigEndian.PutUint32(b[9:13], fnv32a(sess.UserID))
	return b
}

const statusLen = 13

// fnv32a is the 32-bit FNV-1a hash of s.
func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := range len(s) {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func (s *Service[U]) checkSession(ctx context.Context, c domain.Claims) error {
	cache := s.cache()
	var status []byte
	switch {
	case cache != nil && s.parts != nil:
		var found bool
		status, found = s.parts.SessionStatus(c.SessionID)
		s.tel.lookup(cacheResult(found))
	case cache != nil:
		status, _ = cache.Get(ports.SessionKey(c.SessionID))
	}
	if len(status) != statusLen {
		key := ports.SessionKey(c.SessionID)
		epoch := s.epoch.Load()
		sess, err := s.deps.Store.Session(ctx, c.SessionID)
		if errors.Is(err, domain.ErrSessionNotFound) {
			return fmt.Errorf("%w: session ended", domain.ErrRevoked)
		}
		if err != nil {
			return err
		}
		status = encodeStatus(sess)
		if cache != nil {
			s.fill(cache, key, status, epoch)
		}
	}
	expires := int64(binary.BigEndian.Uint64(status[1:9])) // #nosec G115 -- written from an int64 by encodeStatus
	if status[0] != 0 || binary.BigEndian.Uint32(status[9:13]) != fnv32a(c.Subject) || s.cfg.Now().UnixNano() >= expires {
		return fmt.Errorf("%w: session ended", domain.ErrRevoked)
	}
	return nil
}

// fill caches a value read from the store at epoch, unless an
// invalidation arrived since the read began. An invalidation that lands
// between the check and the write is caught by the second check, because
// invalidations bump the epoch before they delete.
func (s *Service[U]) fill(cache ports.Cache, key string, value []byte, epoch uint64) {
	if s.epoch.Load() != epoch {
		return
	}
	cache.Set(key, value)
	if s.epoch.Load() != epoch {
		cache.Delete(key)
	}
}
