package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/jwtauth/jwtauth/domain"
)

func TestCapSessions(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id string, seenAgo time.Duration, ended, revoked bool) domain.Session {
		s := domain.Session{ID: id, LastSeenAt: now.Add(-seenAgo), CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
		if ended {
			s.ExpiresAt = now.Add(-time.Second)
		}
		if revoked {
			s.RevokedAt = now
		}
		return s
	}
	sessions := []domain.Session{
		mk("a", 1*time.Minute, false, false),
		mk("b", 5*time.Minute, false, false),
		mk("c", 9*time.Minute, false, true), // revoked: ignored
		mk("d", 0, true, false),             // ended: goes first
		mk("e", 3*time.Minute, false, false),
	}
	assert.Nil(t, domain.CapSessions(sessions, 0, now, 0), "no cap")
	assert.Nil(t, domain.CapSessions(sessions, 5, now, 0), "4 live, room for a fifth")
	assert.Equal(t, []string{"d"}, domain.CapSessions(sessions, 4, now, 0))
	assert.Equal(t, []string{"d", "b"}, domain.CapSessions(sessions, 3, now, 0))
	assert.Equal(t, []string{"d", "b", "e", "a"}, domain.CapSessions(sessions, 1, now, 0), "a cap of 1 keeps only the new login")
	assert.Equal(t, []string{"b", "d"}, domain.CapSessions(sessions, 3, now, 4*time.Minute), "idle past the timeout counts as ended")
}
