package domain

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Session is one device's login. Access and refresh tokens carry its id.
type Session struct {
	ID         string
	UserID     string
	DeviceID   string
	DeviceName string
	IP         netip.Addr
	CreatedAt  time.Time
	LastSeenAt time.Time // last login or refresh
	// ExpiresAt is the absolute end of the session; rotation never extends it.
	ExpiresAt time.Time
	// RefreshCounter counts refresh-token rotations.
	RefreshCounter uint64
	// RotatedAt is when RefreshCounter last advanced (zero: never).
	RotatedAt time.Time
	// RevokedAt is when the session was revoked (zero: not revoked).
	RevokedAt time.Time
	// JKT is the thumbprint of the DPoP key the session is bound to
	// (cnf.jkt of its tokens); empty when it is not bound.
	JKT string
}

// Active reports whether the session is usable at now: not revoked, not
// past its absolute expiry, and, when idle > 0, seen within idle.
func (s Session) Active(now time.Time, idle time.Duration) bool {
	if !s.RevokedAt.IsZero() || !now.Before(s.ExpiresAt) {
		return false
	}
	return idle <= 0 || now.Sub(s.LastSeenAt) < idle
}

// LimitAction says what a login at the device limit does.
type LimitAction string

// The device limit actions.
const (
	// EvictOldest revokes the least recently seen session (default).
	EvictOldest LimitAction = "evict_oldest"
	// Reject refuses the new login with ErrDeviceLimitReached.
	Reject LimitAction = "reject"
	// RevokeAll rotates the generations and ends every session; the new
	// login is then the only one (d_jwt_auth's behaviour).
	RevokeAll LimitAction = "revoke_all"
)

// ParseLimitAction returns the LimitAction named s, or ErrInvalidArgument.
func ParseLimitAction(s string) (LimitAction, error) {
	switch LimitAction(s) {
	case EvictOldest, Reject, RevokeAll:
		return LimitAction(s), nil
	}
	return "", fmt.Errorf("%w: device policy %q (want evict_oldest, reject or revoke_all)", ErrInvalidArgument, s)
}

// DevicePolicy limits how many devices may be logged in at once.
type DevicePolicy struct {
	// Limit is the maximum number of active sessions; 0 means no limit.
	Limit int
	// OnLimit is applied when a new device logs in at the limit.
	// Default EvictOldest.
	OnLimit LimitAction
}

// LoginDecision is what a login must do to the user's existing sessions.
type LoginDecision struct {
	// Revoke lists the sessions to revoke: the device's previous session
	// (a re-login replaces it) and any evicted ones.
	Revoke []string
	// RotateGenerations is set by RevokeAll: rotate both generations,
	// which ends every other session.
	RotateGenerations bool
}

// Decide applies the policy to a login from deviceID given the user's
// active sessions. A device that already has a session replaces it and
// never takes a second slot. It returns ErrDeviceLimitReached when the
// policy is Reject and the limit is reached.
func (p DevicePolicy) Decide(active []Session, deviceID string) (LoginDecision, error) {
	var d LoginDecision
	others := make([]Session, 0, len(active))
	for _, s := range active {
		if s.DeviceID == deviceID {
			d.Revoke = append(d.Revoke, s.ID)
			continue
		}
		others = append(others, s)
	}
	if p.Limit <= 0 || len(others) < p.Limit {
		return d, nil
	}
	switch p.OnLimit {
	case Reject:
		return LoginDecision{}, ErrDeviceLimitReached
	case RevokeAll:
		d.RotateGenerations = true
		for _, s := range others {
			d.Revoke = append(d.Revoke, s.ID)
		}
		return d, nil
	default: // EvictOldest
		// Evict least recently seen sessions until one slot is free.
		excess := len(others) - p.Limit + 1
		for range excess {
			oldest := 0
			for i, s := range others {
				if s.LastSeenAt.Before(others[oldest].LastSeenAt) ||
					(s.LastSeenAt.Equal(others[oldest].LastSeenAt) && s.CreatedAt.Before(others[oldest].CreatedAt)) {
					oldest = i
				}
			}
			d.Revoke = append(d.Revoke, others[oldest].ID)
			others = append(others[:oldest], others[oldest+1:]...)
		}
		return d, nil
	}
}

// UserAuth is the seed's model: a user's current generation per token type
// (a random UUID; a token is valid only while its "gen" claim equals it,
// so rotating one revokes every token of that type at once), with the
// user's sessions that are not revoked, expired ones included (the caller
// decides what is active at its clock). A Store loads it under the
// per-user lock, creating missing generations.
type UserAuth struct {
	UserID            string
	AccessGeneration  string
	RefreshGeneration string
	Sessions          []Session
}

// Generation returns the user's current generation for typ ("" for an
// unknown type).
func (u UserAuth) Generation(typ TokenType) string {
	switch typ {
	case Access:
		return u.AccessGeneration
	case Refresh:
		return u.RefreshGeneration
	}
	return ""
}

// DefaultMaxSessions is the default cap on a user's live sessions.
const DefaultMaxSessions = 50

// CapSessions returns the ids of the sessions to revoke so that at most
// limit-1 of sessions remain, leaving room for one new session: the
// ended ones (not Active at now) first, then the least recently seen.
// Already revoked sessions are ignored. limit <= 0 means no cap. It bounds
// a user's live sessions whatever the device policy, and with them the
// cost of every per-user operation.
func CapSessions(sessions []Session, limit int, now time.Time, idle time.Duration) []string {
	if limit <= 0 {
		return nil
	}
	live := make([]Session, 0, len(sessions))
	for _, s := range sessions {
		if s.RevokedAt.IsZero() {
			live = append(live, s)
		}
	}
	excess := len(live) - (limit - 1)
	if excess <= 0 {
		return nil
	}
	slices.SortFunc(live, func(a, b Session) int {
		aa, ba := a.Active(now, idle), b.Active(now, idle)
		switch {
		case aa != ba && !aa:
			return -1
		case aa != ba:
			return 1
		}
		if c := a.LastSeenAt.Compare(b.LastSeenAt); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	ids := make([]string, excess)
	for i := range excess {
		ids[i] = live[i].ID
	}
	return ids
}
