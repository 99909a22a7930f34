package app

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// decode decrypts and parses raw. When user is a non-nil pointer the user
// claims are decoded into it.
func (s *Service[U]) decode(raw string, user any) (domain.Claims, error) {
	if raw == "" || len(raw) > MaxTokenLen {
		return domain.Claims{}, fmt.Errorf("%w: empty or longer than %d bytes", domain.ErrMalformed, MaxTokenLen)
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

// mint signs (and encrypts) the tokens of a session.
func (s *Service[U]) mint(sess domain.Session, user U, accessGen, refreshGen string, withRefresh bool) (Pair, error) {
	now := s.cfg.Now()
	pair := Pair{SessionID: sess.ID}
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
	}
	var err error
	if pair.AccessToken, err = s.seal(c, &user); err != nil {
		return Pair{}, err
	}
	pair.AccessExpiresAt = c.ExpiresAt
	if !withRefresh {
		return pair, nil
	}
	c.ID = domain.NewID()
	c.Type = domain.Refresh
	c.Generation = refreshGen
	c.IP = sess.IP
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
	if s.deps.Cache == nil || (s.deps.Bus != nil && !s.deps.Bus.Healthy()) {
		return nil
	}
	return s.deps.Cache
}

func (s *Service[U]) checkGeneration(ctx context.Context, c domain.Claims) error {
	key := ports.GenerationKey(c.Subject, c.Type)
	cache := s.cache()
	if cache != nil {
		if gen, ok := cache.Get(key); ok {
			if string(gen) != c.Generation {
				return fmt.Errorf("%w: generation rotated", domain.ErrRevoked)
			}
			return nil
		}
	}
	epoch := s.epoch.Load()
	gen, err := s.deps.Store.Generation(ctx, c.Subject, c.Type)
	if err != nil {
		return err
	}
	if cache != nil && gen != "" && s.epoch.Load() == epoch {
		cache.Set(key, []byte(gen))
	}
	if gen == "" || gen != c.Generation {
		return fmt.Errorf("%w: generation rotated", domain.ErrRevoked)
	}
	return nil
}

// A cached session status is 1 byte revoked flag, 8 bytes expiry (Unix
// nanoseconds, big endian), then the user id.
func encodeStatus(sess domain.Session) []byte {
	b := make([]byte, 9, 9+len(sess.UserID))
	if !sess.RevokedAt.IsZero() {
		b[0] = 1
	}
	binary.BigEndian.PutUint64(b[1:9], uint64(sess.ExpiresAt.UnixNano()))
	return append(b, sess.UserID...)
}

func (s *Service[U]) checkSession(ctx context.Context, c domain.Claims) error {
	key := ports.SessionKey(c.SessionID)
	cache := s.cache()
	var status []byte
	if cache != nil {
		status, _ = cache.Get(key)
	}
	if len(status) < 9 {
		epoch := s.epoch.Load()
		sess, err := s.deps.Store.Session(ctx, c.SessionID)
		if errors.Is(err, domain.ErrSessionNotFound) {
			return fmt.Errorf("%w: session ended", domain.ErrRevoked)
		}
		if err != nil {
			return err
		}
		status = encodeStatus(sess)
		if cache != nil && s.epoch.Load() == epoch {
			cache.Set(key, status)
		}
	}
	expires := int64(binary.BigEndian.Uint64(status[1:9]))
	if status[0] != 0 || string(status[9:]) != c.Subject || s.cfg.Now().UnixNano() >= expires {
		return fmt.Errorf("%w: session ended", domain.ErrRevoked)
	}
	return nil
}
