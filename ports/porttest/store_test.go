package porttest_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
	"github.com/jwtauth/jwtauth/ports/porttest"
)

// refStore is the simplest store that meets the contract: one mutex. It
// checks that the suite asks for nothing impossible.
type refStore struct {
	pub      ports.Publisher
	mu       sync.Mutex
	gens     map[string][2]string
	sessions map[string]domain.Session
}

var _ ports.Store = (*refStore)(nil)

func newRefStore(pub ports.Publisher) *refStore {
	return &refStore{pub: pub, gens: map[string][2]string{}, sessions: map[string]domain.Session{}}
}

func (s *refStore) Generation(_ context.Context, userID string, typ domain.TokenType) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gens[userID]
	if !ok {
		return "", nil
	}
	if typ == domain.Refresh {
		return g[1], nil
	}
	return g[0], nil
}

func (s *refStore) Session(_ context.Context, id string) (domain.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	return sess, nil
}

func (s *refStore) live(userID string) []domain.Session {
	var out []domain.Session
	for _, sess := range s.sessions {
		if sess.UserID == userID && sess.RevokedAt.IsZero() {
			out = append(out, sess)
		}
	}
	slices.SortFunc(out, func(a, b domain.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

func (s *refStore) Sessions(_ context.Context, userID string) ([]domain.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live(userID), nil
}

func (s *refStore) UpdateUser(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	s.mu.Lock()
	gens, ok := s.gens[userID]
	if !ok {
		gens = [2]string{domain.NewGeneration(), domain.NewGeneration()}
	}
	change, err := fn(domain.UserAuth{UserID: userID, AccessGeneration: gens[0], RefreshGeneration: gens[1], Sessions: s.live(userID)})
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var keys []string
	if change.NewAccessGeneration != "" {
		gens[0] = change.NewAccessGeneration
		keys = append(keys, ports.GenerationKey(userID, domain.Access))
	}
	if change.NewRefreshGeneration != "" {
		gens[1] = change.NewRefreshGeneration
		keys = append(keys, ports.GenerationKey(userID, domain.Refresh))
	}
	s.gens[userID] = gens
	for _, sess := range change.Put {
		if old, ok := s.sessions[sess.ID]; ok {
			sess.JKT = old.JKT // the key never changes
			if !old.RevokedAt.IsZero() {
				sess.RevokedAt = old.RevokedAt // a revoked session stays revoked
			}
		}
		s.sessions[sess.ID] = sess
	}
	at := change.RevokedAt
	if at.IsZero() {
		at = time.Now()
	}
	for _, id := range change.Revoke {
		if sess, ok := s.sessions[id]; ok && sess.UserID == userID && sess.RevokedAt.IsZero() {
			sess.RevokedAt = at
			s.sessions[id] = sess
			keys = append(keys, ports.SessionKey(id))
		}
	}
	s.mu.Unlock()
	if s.pub != nil && len(keys) > 0 {
		return s.pub.Publish(ctx, keys...)
	}
	return nil
}

func (s *refStore) Prune(_ context.Context, before, idleBefore time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, id := range slices.Collect(maps.Keys(s.sessions)) {
		sess := s.sessions[id]
		idle := !idleBefore.IsZero() && sess.LastSeenAt.Before(idleBefore)
		if idle || sess.ExpiresAt.Before(before) || (!sess.RevokedAt.IsZero() && sess.RevokedAt.Before(before)) {
			delete(s.sessions, id)
			n++
		}
	}
	return n, nil
}

func TestStoreSuiteOnReferenceStore(t *testing.T) {
	porttest.StoreSuite(t, func(t *testing.T, pub ports.Publisher) ports.Store {
		return newRefStore(pub)
	})
}

func TestPublisherSpy(t *testing.T) {
	var spy porttest.PublisherSpy
	require.NoError(t, spy.Publish(t.Context(), "a", "b"))
	require.NoError(t, spy.Publish(t.Context()))
	calls := spy.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, []string{"a", "b"}, calls[0])
	assert.Empty(t, calls[1])
	assert.Equal(t, []string{"a", "b"}, spy.Keys())
	spy.Reset()
	assert.Empty(t, spy.Keys())

	spy.Err = domain.ErrUnavailable
	assert.ErrorIs(t, spy.Publish(t.Context(), "c"), domain.ErrUnavailable)
	assert.Equal(t, []string{"c"}, spy.Keys(), "recorded even when failing")
}
