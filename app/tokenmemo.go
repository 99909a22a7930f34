package app

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtauth/jwtauth/domain"
)

// DefaultTokenMemo is the number of access tokens a Service remembers as
// verified by default (Config.TokenMemo).
const DefaultTokenMemo = 4096

// MaxTokenMemo is the largest Config.TokenMemo: about 1.4 GB when every
// slot holds a 900-byte token and its claims (a slot holds at most a
// domain.MaxTokenLen token and its decoded payload, about 30 KB).
const MaxTokenMemo = 1 << 20

// tokenMemo remembers access tokens that passed Authenticate, with their
// decoded claims: a client presents the same token on every request until
// it expires, and decrypting, verifying and decoding it again gives the
// same answer every time. What can change is checked on every request,
// hit or not: the time (with the codec's clock), the client binding, the
// generation and the session.
//
// A hit compares the whole token, so a forged or tampered token never
// matches and always takes the full path. The tokens are kept in memory,
// where the keys that mint them already are: reading them is no easier
// than reading the keys. It is direct-mapped, like userMemo: a slot holds
// the last token hashed to it, so memory stays bounded (a copy of the
// token and its claims: about 1.5 times the token's length, 974 bytes a
// slot for a 628-byte token when measured, at most about 30 KB for the
// largest) and a miss only costs the work it saves otherwise, plus
// hashing.
type tokenMemo[U any] struct {
	seed  maphash.Seed
	slots []atomic.Pointer[tokenEntry[U]]
	now   func() time.Time // the codec's clock
}

type tokenEntry[U any] struct {
	raw    string
	claims domain.Claims
	user   U
}

// codecClock is a Codec that tells its clock (jwtcodec.Codec): the memo
// applies exp, nbf and iat with the clock the codec would.
type codecClock interface {
	Now() time.Time
}

// newTokenMemo returns a memo of n slots, or nil when n is not positive,
// the codec does not tell its clock, or the principal's user claims come
// from the token and cannot be shared by copy (see memoizable).
func newTokenMemo[U any](n int, codec any, users *userMemo[U], userFromToken bool) *tokenMemo[U] {
	clock, ok := codec.(codecClock)
	if n <= 0 || !ok || userFromToken && users == nil {
		return nil
	}
	return &tokenMemo[U]{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[tokenEntry[U]], n), now: clock.Now}
}

func (m *tokenMemo[U]) slot(raw string) *atomic.Pointer[tokenEntry[U]] {
	return &m.slots[maphash.String(m.seed, raw)%uint64(len(m.slots))]
}

// get returns the claims and user of raw when it is remembered and, by
// the codec's clock, neither expired nor not yet valid without the
// codec's leeway (which only ever widens nbf and iat), so the codec would
// accept it now. Otherwise it reports false.
func (m *tokenMemo[U]) get(raw string) (domain.Claims, U, bool) {
	e := m.slot(raw).Load()
	if e == nil || e.raw != raw {
		var zero U
		return domain.Claims{}, zero, false
	}
	now := m.now()
	c := e.claims
	if !now.Before(c.ExpiresAt) || now.Before(c.NotBefore) || now.Before(c.IssuedAt) {
		var zero U
		return domain.Claims{}, zero, false
	}
	if c.Audience != nil { // the only claim a caller could change in place
		c.Audience = slices.Clone(c.Audience)
	}
	return c, e.user, true
}

// put remembers raw, a token that passed Authenticate. It keeps a copy:
// raw may be a slice of a larger string (a cookie's value is one of the
// whole Cookie header), which the memo would otherwise keep alive.
func (m *tokenMemo[U]) put(raw string, c domain.Claims, user U) {
	c.Audience = slices.Clone(c.Audience)
	m.slot(raw).Store(&tokenEntry[U]{raw: strings.Clone(raw), claims: c, user: user})
}
