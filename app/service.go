package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// Limits on caller-supplied values. Longer input is rejected (ids, tokens)
// or truncated (device names) before it reaches a store.
const (
	MaxTokenLen      = domain.MaxTokenLen
	MaxUserIDLen     = 256
	MaxDeviceIDLen   = 256
	MaxDeviceNameLen = 256
	// MaxJKTLen bounds ClientInfo.JKT: an RFC 7638 SHA-256 thumbprint is
	// 43 characters of base64url.
	MaxJKTLen = 128
)

// Deps are the adapters a Service uses.
type Deps[U any] struct {
	// Store holds generations and sessions. Required.
	Store ports.Store
	// Codec signs and parses the inner JWT. Required.
	Codec ports.TokenCodec
	// Cipher encrypts tokens. Optional: nil issues plain signed tokens.
	Cipher ports.Cipher
	// Cache caches generation and session lookups. Optional.
	Cache ports.Cache
	// Bus delivers other instances' invalidations to Cache. Optional for a
	// single instance; required for several instances sharing a store.
	Bus ports.Bus
	// Users loads fresh user claims on refresh, and on every Authenticate
	// unless Config.UserFromToken. Optional: nil yields the zero U.
	Users ports.UserLoader[U]
}

// Pair is the result of a login or a refresh.
type Pair struct {
	// IssuedAt is when the tokens were issued; expires_in counts from it.
	IssuedAt         time.Time
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string // empty after a refresh without rotation
	RefreshExpiresAt time.Time
	SessionID        string
	// JKT is the DPoP key thumbprint the tokens are bound to (their
	// cnf.jkt); empty when they are not bound. Bound tokens are of
	// token_type "DPoP" (RFC 9449 §5).
	JKT string
}

// Principal is an authenticated request's identity.
type Principal[U any] struct {
	UserID    string
	SessionID string
	User      U
	Claims    domain.Claims
}

// Service implements the use cases. It is safe for concurrent use.
//
// Under faults: a revoking call (logouts, RevokeSession, Invalidate,
// refresh reuse, a login that evicts) returns only once a bus that
// implements ports.Syncer confirmed the revocation reached the other
// instances, and is unavailable otherwise; a store call that fails with a
// deadline flushes the cache; times of a change are read under the
// per-user lock.
type Service[U any] struct {
	cfg  Config
	deps Deps[U]
	// epoch counts invalidations seen; a cache fill started before an
	// invalidation is dropped, so a racing read cannot re-cache a stale
	// value.
	epoch atomic.Uint64
	tel   *telemetry
	users *userMemo[U] // nil unless UserFromToken and U is memoizable
	parts partsCache   // the cache, when it looks up by parts
	// decrypter is the cipher, when it decrypts into a buffer.
	decrypter appendDecrypter
	tokens    *tokenMemo[U] // nil when off (see newTokenMemo)
}

// New returns a Service, or an error wrapping domain.ErrInvalidArgument
// when cfg or deps are unusable.
func New[U any](cfg Config, deps Deps[U]) (*Service[U], error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Codec == nil {
		return nil, fmt.Errorf("%w: Store and Codec are required", domain.ErrInvalidArgument)
	}
	s := &Service[U]{cfg: cfg, deps: deps}
	if cfg.UserFromToken {
		s.users = newUserMemo[U]()
	}
	s.parts, _ = deps.Cache.(partsCache)
	s.decrypter, _ = deps.Cipher.(appendDecrypter)
	s.tokens = newTokenMemo(cfg.TokenMemo, deps.Codec, s.users, cfg.UserFromToken)
	if s.tel, err = newTelemetry(cfg, deps.Bus); err != nil {
		return nil, err
	}
	s.instrument()
	s.deps.Store = flushingStore{Store: s.deps.Store, flush: s.flush}
	if deps.Bus != nil {
		deps.Bus.Subscribe(s.onInvalidate)
	}
	return s, nil
}

// Now returns the current time on the service's clock.
func (s *Service[U]) Now() time.Time { return s.cfg.Now() }

func (s *Service[U]) onInvalidate(keys []string) {
	s.tel.invalidation.Add(context.Background(), 1)
	if s.deps.Cache == nil {
		return
	}
	s.epoch.Add(1)
	if keys == nil {
		s.deps.Cache.Reset()
		return
	}
	s.deps.Cache.Delete(keys...)
}

// login issues an access and refresh token pair for a user whose
// credentials the application has checked. In one transaction locked per
// user it applies the device policy, replaces this device's previous
// session, and creates the new session.
func (s *Service[U]) login(ctx context.Context, userID string, user U, client domain.ClientInfo) (Pair, error) {
	if err := checkUserID(userID); err != nil {
		return Pair{}, err
	}
	client, err := cleanClient(client)
	if err != nil {
		return Pair{}, err
	}
	var (
		pair    Pair
		evicted []string
		revokes bool
		evicts  int
	)
	err = s.deps.Store.UpdateUser(ctx, userID, func(st domain.UserAuth) (ports.UserChange, error) {
		now := s.cfg.Now() // under the lock
		sess := domain.Session{
			ID:         domain.NewID(),
			UserID:     userID,
			DeviceID:   client.DeviceID,
			DeviceName: client.DeviceName,
			IP:         client.IP,
			CreatedAt:  now,
			LastSeenAt: now,
			ExpiresAt:  now.Add(s.cfg.SessionMaxAge),
			JKT:        client.JKT,
		}
		decision, err := s.cfg.DevicePolicy.Decide(s.active(st.Sessions, now), client.DeviceID)
		if err != nil {
			return ports.UserChange{}, err
		}
		change := ports.UserChange{Put: []domain.Session{sess}, Revoke: decision.Revoke, RevokedAt: now}
		if !decision.RotateGenerations {
			change.Revoke = append(change.Revoke, s.capSessions(st.Sessions, decision.Revoke, now)...)
		}
		access, refresh := st.AccessGeneration, st.RefreshGeneration
		if decision.RotateGenerations {
			access, refresh = domain.NewGeneration(), domain.NewGeneration()
			change.NewAccessGeneration, change.NewRefreshGeneration = access, refresh
		}
		evicted, revokes = s.changedKeys(userID, change), revoking(change)
		evicts = countEvicted(st.Sessions, change.Revoke, client.DeviceID)
		pair, err = s.mint(sess, user, access, refresh, true)
		return change, err
	})
	if err != nil {
		return Pair{}, err
	}
	s.evictLocal(evicted)
	s.tel.revoked(ctx, kindEvict, evicts) // committed, whether or not the bus confirms it
	if revokes {
		if err := s.sync(ctx); err != nil {
			return Pair{}, err
		}
	}
	return pair, nil
}

// authenticate checks an access token presented by client and returns its
// principal: decrypt, verify, type, IP binding, device binding, current
// generation, active session.
func (s *Service[U]) authenticate(ctx context.Context, raw string, client domain.ClientInfo) (Principal[U], error) {
	var p Principal[U]
	var c domain.Claims
	hit := false
	if s.tokens != nil && len(raw) <= domain.MaxTokenLen { // longer: refused without hashing
		c, p.User, hit = s.tokens.get(raw)
	}
	if !hit {
		var slot *userSlot[U]
		var dst any
		if s.cfg.UserFromToken {
			slot = &userSlot[U]{memo: s.users}
			dst = slot
		}
		var err error
		if c, err = s.decode(raw, dst); err != nil {
			return Principal[U]{}, err
		}
		if slot != nil {
			p.User = slot.user
		}
	}
	if err := s.checkAccess(ctx, c, client); err != nil {
		return Principal[U]{}, err
	}
	if s.tokens != nil && !hit {
		s.tokens.put(raw, c, p.User)
	}
	if !s.cfg.UserFromToken {
		var err error
		if p.User, err = s.loadUser(ctx, c.Subject); err != nil {
			return Principal[U]{}, err
		}
	}
	p.UserID, p.SessionID, p.Claims = c.Subject, c.SessionID, c
	return p, nil
}

func (s *Service[U]) checkAccess(ctx context.Context, c domain.Claims, client domain.ClientInfo) error {
	if c.Type != domain.Access {
		return fmt.Errorf("%w: want an access token", domain.ErrWrongTokenType)
	}
	if err := checkKey(c, client); err != nil {
		return err
	}
	if !s.cfg.IPBinding.Allows(c.IP, client.IP) {
		return fmt.Errorf("%w: IP address", domain.ErrClientMismatch)
	}
	if c.DeviceID != client.DeviceID {
		return fmt.Errorf("%w: device", domain.ErrClientMismatch)
	}
	if err := s.checkGeneration(ctx, c); err != nil {
		return err
	}
	return s.checkSession(ctx, c)
}

// Verify reports whether raw is a valid token of either type for client,
// returning its type. It never changes state: a reused refresh token is
// reported, not punished.
func (s *Service[U]) Verify(ctx context.Context, raw string, client domain.ClientInfo) (domain.TokenType, error) {
	c, err := s.decode(raw, nil)
	if err != nil {
		return "", err
	}
	if c.Type == domain.Access {
		return c.Type, s.checkAccess(ctx, c, client)
	}
	if err := checkKey(c, client); err != nil {
		return c.Type, err
	}
	if c.DeviceID != client.DeviceID {
		return c.Type, fmt.Errorf("%w: device", domain.ErrClientMismatch)
	}
	if err := s.checkGeneration(ctx, c); err != nil {
		return c.Type, err
	}
	sess, err := s.deps.Store.Session(ctx, c.SessionID)
	if errors.Is(err, domain.ErrSessionNotFound) {
		return c.Type, fmt.Errorf("%w: session ended", domain.ErrRevoked)
	}
	if err != nil {
		return c.Type, err
	}
	if err := s.checkRefreshSession(sess, c, s.cfg.Now()); err != nil {
		if errors.Is(err, errGrace) {
			return c.Type, nil
		}
		return c.Type, err
	}
	return c.Type, nil
}

var errGrace = errors.New("grace")

// checkRefreshSession checks a refresh token's claims against its session.
// It returns nil for the current counter, errGrace for the previous one
// within the grace interval, and ErrRefreshReused for any other.
func (s *Service[U]) checkRefreshSession(sess domain.Session, c domain.Claims, now time.Time) error {
	if sess.UserID != c.Subject || !sess.RevokedAt.IsZero() {
		return fmt.Errorf("%w: session ended", domain.ErrRevoked)
	}
	if sess.JKT != c.JKT {
		return fmt.Errorf("%w: the session is bound to another key", domain.ErrKeyMismatch)
	}
	if !sess.Active(now, s.cfg.IdleTimeout) {
		return fmt.Errorf("%w: session ended", domain.ErrExpired)
	}
	switch {
	case c.RefreshCounter == sess.RefreshCounter:
		return nil
	case s.cfg.RotateRefresh && c.RefreshCounter+1 == sess.RefreshCounter &&
		now.Sub(sess.RotatedAt) <= s.cfg.ReuseGrace:
		return errGrace
	}
	return domain.ErrRefreshReused
}

// refresh exchanges a refresh token for a new access token, and with
// rotation on a new refresh token too. Presenting a rotated-out refresh
// token after the grace interval revokes its session and returns
// domain.ErrRefreshReused.
func (s *Service[U]) refresh(ctx context.Context, raw string, client domain.ClientInfo) (Pair, error) {
	c, err := s.decode(raw, nil)
	if err != nil {
		return Pair{}, err
	}
	if c.Type != domain.Refresh {
		return Pair{}, fmt.Errorf("%w: want a refresh token", domain.ErrWrongTokenType)
	}
	client, err = cleanClient(client)
	if err != nil {
		return Pair{}, err
	}
	if err := checkKey(c, client); err != nil {
		return Pair{}, err
	}
	if c.DeviceID != client.DeviceID {
		return Pair{}, fmt.Errorf("%w: device", domain.ErrClientMismatch)
	}
	// A rotated-out generation is refused before the user loader is
	// called; everything else is checked again under the lock.
	if err := s.checkGeneration(ctx, c); err != nil {
		return Pair{}, err
	}
	user, err := s.loadUser(ctx, c.Subject)
	if err != nil {
		return Pair{}, err
	}
	var (
		pair   Pair
		reused bool
	)
	err = s.deps.Store.UpdateUser(ctx, c.Subject, func(st domain.UserAuth) (ports.UserChange, error) {
		// Read under the lock: a refresh that waited for it (a slow
		// database, a concurrent refresh) stamps the rotation when it is
		// made, so a retry of it is within the grace.
		now := s.cfg.Now()
		if st.Generation(c.Type) != c.Generation {
			return ports.UserChange{}, fmt.Errorf("%w: generation rotated", domain.ErrRevoked)
		}
		i := indexSession(st.Sessions, c.SessionID)
		if i < 0 {
			return ports.UserChange{}, fmt.Errorf("%w: session ended", domain.ErrRevoked)
		}
		sess := st.Sessions[i]
		err := s.checkRefreshSession(sess, c, now)
		switch {
		case errors.Is(err, domain.ErrRefreshReused):
			reused = true
			return ports.UserChange{Revoke: []string{sess.ID}, RevokedAt: now}, nil
		case err != nil && !errors.Is(err, errGrace):
			return ports.UserChange{}, err
		case err == nil && s.cfg.RotateRefresh:
			sess.RefreshCounter++
			sess.RotatedAt = now
		}
		sess.LastSeenAt, sess.IP = now, client.IP
		pair, err = s.mint(sess, user, st.AccessGeneration, st.RefreshGeneration, s.cfg.RotateRefresh)
		return ports.UserChange{Put: []domain.Session{sess}}, err
	})
	if err != nil {
		return Pair{}, err
	}
	s.evictLocal([]string{ports.SessionKey(c.SessionID)})
	if reused {
		s.tel.revoked(ctx, kindReuse, 1) // committed, whether or not the bus confirms it
		if err := s.sync(ctx); err != nil {
			return Pair{}, err
		}
		return Pair{}, fmt.Errorf("%w: session revoked", domain.ErrRefreshReused)
	}
	return pair, nil
}

// Invalidate rotates the user's generation of typ: every token of that
// type issued so far is revoked (d_jwt_auth's update_user_auth_uuid).
// Revoking access tokens alone makes clients refresh, which reloads the
// user's claims.
func (s *Service[U]) Invalidate(ctx context.Context, userID string, typ domain.TokenType) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	if _, err := domain.ParseTokenType(string(typ)); err != nil {
		return err
	}
	return s.revoke(ctx, kindInvalidate, userID, func(domain.UserAuth) (ports.UserChange, error) {
		if typ == domain.Access {
			return ports.UserChange{NewAccessGeneration: domain.NewGeneration()}, nil
		}
		return ports.UserChange{NewRefreshGeneration: domain.NewGeneration()}, nil
	})
}

// Logout ends one session (one device).
func (s *Service[U]) Logout(ctx context.Context, sessionID string) error {
	if sessionID == "" || len(sessionID) > MaxUserIDLen {
		return domain.ErrSessionNotFound
	}
	sess, err := s.deps.Store.Session(ctx, sessionID)
	if err != nil {
		return err
	}
	return s.revokeSession(ctx, kindLogout, sess.UserID, sessionID)
}

// LogoutAll ends every session of the user and rotates both generations.
func (s *Service[U]) LogoutAll(ctx context.Context, userID string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	return s.revoke(ctx, kindLogoutAll, userID, func(st domain.UserAuth) (ports.UserChange, error) {
		return ports.UserChange{
			NewAccessGeneration:  domain.NewGeneration(),
			NewRefreshGeneration: domain.NewGeneration(),
			Revoke:               sessionIDs(st.Sessions, ""),
			RevokedAt:            s.cfg.Now(),
		}, nil
	})
}

// LogoutOthers ends every session of the user except keepSessionID.
func (s *Service[U]) LogoutOthers(ctx context.Context, userID, keepSessionID string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	return s.revoke(ctx, kindLogoutOthers, userID, func(st domain.UserAuth) (ports.UserChange, error) {
		return ports.UserChange{Revoke: sessionIDs(st.Sessions, keepSessionID), RevokedAt: s.cfg.Now()}, nil
	})
}

// Sessions lists the user's active sessions, oldest first.
func (s *Service[U]) Sessions(ctx context.Context, userID string) ([]domain.Session, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	all, err := s.deps.Store.Sessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.active(all, s.cfg.Now()), nil
}

// RevokeSession ends one of the user's sessions. A session of another user,
// or one already ended, is domain.ErrSessionNotFound.
func (s *Service[U]) RevokeSession(ctx context.Context, userID, sessionID string) error {
	return s.revokeSession(ctx, kindSession, userID, sessionID)
}

func (s *Service[U]) revokeSession(ctx context.Context, kind, userID, sessionID string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	if sessionID == "" || len(sessionID) > MaxUserIDLen {
		return domain.ErrSessionNotFound
	}
	return s.revoke(ctx, kind, userID, func(st domain.UserAuth) (ports.UserChange, error) {
		if indexSession(st.Sessions, sessionID) < 0 {
			return ports.UserChange{}, domain.ErrSessionNotFound
		}
		return ports.UserChange{Revoke: []string{sessionID}, RevokedAt: s.cfg.Now()}, nil
	})
}

// Prune deletes sessions that expired, were revoked, or (with an idle
// timeout) went idle before now, and returns how many. Call it
// periodically.
func (s *Service[U]) Prune(ctx context.Context) (int64, error) {
	now := s.cfg.Now()
	var idleBefore time.Time
	if s.cfg.IdleTimeout > 0 {
		idleBefore = now.Add(-s.cfg.IdleTimeout)
	}
	return s.deps.Store.Prune(ctx, now, idleBefore)
}

// revoke runs a revoking locked update, counts one revocation of kind once
// it committed, and evicts the keys it changed from the local cache at
// once; other instances hear of it through the bus, and the call returns
// only once the bus confirmed it (see sync).
func (s *Service[U]) revoke(ctx context.Context, kind, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	var (
		keys    []string
		revokes bool
	)
	err := s.deps.Store.UpdateUser(ctx, userID, func(st domain.UserAuth) (ports.UserChange, error) {
		change, err := fn(st)
		keys, revokes = s.changedKeys(userID, change), revoking(change)
		return change, err
	})
	if err != nil {
		return err
	}
	s.evictLocal(keys)
	s.tel.revoked(ctx, kind, 1) // committed, whether or not the bus confirms it
	if revokes {
		return s.sync(ctx)
	}
	return nil
}

func (s *Service[U]) changedKeys(userID string, c ports.UserChange) []string {
	var keys []string
	if c.NewAccessGeneration != "" {
		keys = append(keys, ports.GenerationKey(userID, domain.Access))
	}
	if c.NewRefreshGeneration != "" {
		keys = append(keys, ports.GenerationKey(userID, domain.Refresh))
	}
	for _, sess := range c.Put {
		keys = append(keys, ports.SessionKey(sess.ID))
	}
	for _, id := range c.Revoke {
		keys = append(keys, ports.SessionKey(id))
	}
	return keys
}

func (s *Service[U]) evictLocal(keys []string) {
	if s.deps.Cache == nil || len(keys) == 0 {
		return
	}
	s.epoch.Add(1)
	s.deps.Cache.Delete(keys...)
}

// capSessions returns the sessions a login must also revoke to keep the
// user within MaxSessions, besides those already revoked.
func (s *Service[U]) capSessions(sessions []domain.Session, revoked []string, now time.Time) []string {
	if len(sessions) < s.cfg.MaxSessions {
		return nil // fast path: room left whatever the decision
	}
	kept := slices.DeleteFunc(slices.Clone(sessions), func(x domain.Session) bool { return slices.Contains(revoked, x.ID) })
	return domain.CapSessions(kept, s.cfg.MaxSessions, now, s.cfg.IdleTimeout)
}

func (s *Service[U]) active(sessions []domain.Session, now time.Time) []domain.Session {
	out := make([]domain.Session, 0, len(sessions))
	for _, sess := range sessions {
		if sess.Active(now, s.cfg.IdleTimeout) {
			out = append(out, sess)
		}
	}
	return out
}

func (s *Service[U]) loadUser(ctx context.Context, userID string) (U, error) {
	var zero U
	if s.deps.Users == nil {
		return zero, nil
	}
	u, err := s.deps.Users.LoadUser(ctx, userID)
	if err != nil {
		return zero, fmt.Errorf("load user: %w", err)
	}
	return u, nil
}

// checkUserID accepts 1 to MaxUserIDLen bytes of UTF-8 without ASCII
// control characters. A user id travels inside invalidation keys, which
// buses join with "\n" (pgbus, the PostgreSQL store's NOTIFY): an id
// holding one would split its keys on the other instances, whose caches
// would then keep a revoked generation or session.
func checkUserID(id string) error {
	if id == "" || len(id) > MaxUserIDLen || !utf8.ValidString(id) ||
		strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: user id must be 1 to %d bytes of UTF-8 without control characters", domain.ErrInvalidArgument, MaxUserIDLen)
	}
	return nil
}

func cleanClient(c domain.ClientInfo) (domain.ClientInfo, error) {
	if len(c.DeviceID) > MaxDeviceIDLen || !utf8.ValidString(c.DeviceID) {
		return c, fmt.Errorf("%w: device id must be at most %d bytes of UTF-8", domain.ErrInvalidArgument, MaxDeviceIDLen)
	}
	if len(c.JKT) > MaxJKTLen || !utf8.ValidString(c.JKT) {
		return c, fmt.Errorf("%w: key thumbprint must be at most %d bytes of UTF-8", domain.ErrInvalidArgument, MaxJKTLen)
	}
	name := strings.ToValidUTF8(c.DeviceName, "\uFFFD")
	if len(name) > MaxDeviceNameLen {
		name = name[:MaxDeviceNameLen]
		name = strings.ToValidUTF8(name, "")
	}
	c.DeviceName = name
	return c, nil
}

// checkKey checks a token's DPoP binding against the key the request
// proved: a bound token needs a proof by its key, and a proof comes only
// with a bound token, so that a client that signs its requests never
// silently falls back to a token anyone holding it could use.
func checkKey(c domain.Claims, client domain.ClientInfo) error {
	if c.JKT == client.JKT {
		return nil
	}
	if client.JKT == "" {
		return fmt.Errorf("%w: the token is DPoP-bound and the request carries no proof", domain.ErrKeyMismatch)
	}
	if c.JKT == "" {
		return fmt.Errorf("%w: the token is not DPoP-bound", domain.ErrKeyMismatch)
	}
	return fmt.Errorf("%w: the proof is signed by another key", domain.ErrKeyMismatch)
}

func indexSession(sessions []domain.Session, id string) int {
	for i, s := range sessions {
		if s.ID == id {
			return i
		}
	}
	return -1
}

func sessionIDs(sessions []domain.Session, except string) []string {
	ids := make([]string, 0, len(sessions))
	for _, s := range sessions {
		if s.ID != except {
			ids = append(ids, s.ID)
		}
	}
	return ids
}
