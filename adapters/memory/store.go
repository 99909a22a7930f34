package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

var _ ports.Store = (*Store)(nil)

// Store is an in-memory ports.Store. The zero value is not usable; call
// NewStore.
type Store struct {
	pub ports.Publisher // optional

	mu       sync.RWMutex // guards users, sessions and byUser
	users    map[string]*user
	sessions map[string]domain.Session
	// byUser indexes the ids of each user's sessions that are not revoked.
	byUser map[string]map[string]struct{}
}

type user struct {
	lock    sync.Mutex // the per-user lock of UpdateUser
	access  string
	refresh string
}

// NewStore returns an empty Store. When pub is not nil, it receives the
// invalidation keys of every committed change.
func NewStore(pub ports.Publisher) *Store {
	return &Store{
		pub:      pub,
		users:    make(map[string]*user),
		sessions: make(map[string]domain.Session),
		byUser:   make(map[string]map[string]struct{}),
	}
}

// Generation implements ports.Store.
func (s *Store) Generation(ctx context.Context, userID string, typ domain.TokenType) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", unavailable(err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.users[userID]
	if u == nil || u.access == "" {
		return "", nil
	}
	if typ == domain.Refresh {
		return u.refresh, nil
	}
	return u.access, nil
}

// Session implements ports.Store.
func (s *Store) Session(ctx context.Context, sessionID string) (domain.Session, error) {
	if err := ctx.Err(); err != nil {
		return domain.Session{}, unavailable(err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sess, ok := s.sessions[sessionID]
	if !ok {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	return sess, nil
}

// Sessions implements ports.Store.
func (s *Store) Sessions(ctx context.Context, userID string) ([]domain.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, unavailable(err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.activeLocked(userID), nil
}

func (s *Store) activeLocked(userID string) []domain.Session {
	out := make([]domain.Session, 0, len(s.byUser[userID]))
	for id := range s.byUser[userID] {
		out = append(out, s.sessions[id])
	}
	slices.SortFunc(out, func(a, b domain.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// UpdateUser implements ports.Store. A Put may not move a session to
// another user (domain.ErrInvalidArgument), and a revoked session it
// replaces stays revoked, so that a Put built from a stale read cannot
// revive it, and keeps its DPoP key; a Revoke without RevokedAt is revoked at time.Now.
func (s *Store) UpdateUser(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	if err := ctx.Err(); err != nil {
		return unavailable(err)
	}
	if userID == "" || fn == nil {
		return fmt.Errorf("%w: empty user id or nil fn", domain.ErrInvalidArgument)
	}
	s.mu.Lock()
	u := s.users[userID]
	if u == nil {
		u = &user{}
		s.users[userID] = u
	}
	s.mu.Unlock()

	u.lock.Lock()
	defer u.lock.Unlock()

	s.mu.RLock()
	state := domain.UserAuth{
		UserID:            userID,
		AccessGeneration:  u.access,
		RefreshGeneration: u.refresh,
		Sessions:          s.activeLocked(userID),
	}
	s.mu.RUnlock()
	// Generations are created lazily, and kept only if the change commits.
	if state.AccessGeneration == "" {
		state.AccessGeneration, state.RefreshGeneration = domain.NewGeneration(), domain.NewGeneration()
	}

	change, err := fn(state)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return unavailable(err)
	}
	if change.RevokedAt.IsZero() {
		change.RevokedAt = time.Now()
	}

	s.mu.Lock()
	for _, sess := range change.Put {
		if old, ok := s.sessions[sess.ID]; ok && old.UserID != userID {
			s.mu.Unlock()
			return fmt.Errorf("%w: session %q belongs to another user", domain.ErrInvalidArgument, sess.ID)
		}
	}
	keys := make([]string, 0, 2+len(change.Put)+len(change.Revoke))
	u.access, u.refresh = state.AccessGeneration, state.RefreshGeneration
	if change.NewAccessGeneration != "" {
		u.access = change.NewAccessGeneration
		keys = append(keys, ports.GenerationKey(userID, domain.Access))
	}
	if change.NewRefreshGeneration != "" {
		u.refresh = change.NewRefreshGeneration
		keys = append(keys, ports.GenerationKey(userID, domain.Refresh))
	}
	for _, sess := range change.Put {
		sess.UserID = userID
		if old, ok := s.sessions[sess.ID]; ok {
			sess.JKT = old.JKT
			if !old.RevokedAt.IsZero() {
				sess.RevokedAt = old.RevokedAt
			}
		}
		s.sessions[sess.ID] = sess
		s.index(sess)
		keys = append(keys, ports.SessionKey(sess.ID))
	}
	for _, id := range change.Revoke {
		sess, ok := s.sessions[id]
		if !ok || sess.UserID != userID || !sess.RevokedAt.IsZero() {
			continue
		}
		sess.RevokedAt = change.RevokedAt
		s.sessions[id] = sess
		s.index(sess)
		keys = append(keys, ports.SessionKey(id))
	}
	s.mu.Unlock()

	if s.pub != nil && len(keys) > 0 {
		if err := s.pub.Publish(ctx, keys...); err != nil {
			return fmt.Errorf("%w: change committed but not announced: %w", domain.ErrUnavailable, err)
		}
	}
	return nil
}

// Prune implements ports.Store.
func (s *Store) Prune(ctx context.Context, before, idleBefore time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, unavailable(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, sess := range s.sessions {
		revoked := !sess.RevokedAt.IsZero() && sess.RevokedAt.Before(before)
		idle := !idleBefore.IsZero() && sess.LastSeenAt.Before(idleBefore)
		if revoked || idle || sess.ExpiresAt.Before(before) {
			delete(s.sessions, id)
			delete(s.byUser[sess.UserID], id)
			n++
		}
	}
	return n, nil
}

// index keeps byUser in step with a written session. s.mu must be held.
func (s *Store) index(sess domain.Session) {
	ids := s.byUser[sess.UserID]
	if ids == nil {
		ids = make(map[string]struct{})
		s.byUser[sess.UserID] = ids
	}
	if sess.RevokedAt.IsZero() {
		ids[sess.ID] = struct{}{}
	} else {
		delete(ids, sess.ID)
	}
}
