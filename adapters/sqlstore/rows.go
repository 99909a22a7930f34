package sqlstore

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/jwtauth/jwtauth/domain"
)

// timeLayout is how times travel to the database: UTC, microseconds, fixed
// width. PostgreSQL parses it into timestamptz; SQLite stores it as TEXT,
// where text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// timeArg returns t as a bind parameter.
func timeArg(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTimeArg returns t as a bind parameter, NULL for the zero time.
func nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timeArg(t)
}

// dbTime scans a timestamptz (PostgreSQL) or TEXT (SQLite) column. NULL
// scans as the zero time.
type dbTime struct{ time.Time }

// Scan implements sql.Scanner.
func (t *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
		return nil
	case time.Time:
		t.Time = v.UTC()
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	}
	return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
}

func (t *dbTime) parse(s string) error {
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("sqlstore: cannot parse time %q", s)
}

// sessionColumns are the columns sessionRow scans, in table order.
const sessionColumns = `id, user_id, device_id, device_name, ip, created_at, last_seen_at, expires_at, refresh_counter, rotated_at, revoked_at, jkt`

// sessionRow is one row of the sessions table.
type sessionRow struct {
	ID             string `db:"id"`
	UserID         string `db:"user_id"`
	DeviceID       string `db:"device_id"`
	DeviceName     string `db:"device_name"`
	IP             string `db:"ip"`
	CreatedAt      dbTime `db:"created_at"`
	LastSeenAt     dbTime `db:"last_seen_at"`
	ExpiresAt      dbTime `db:"expires_at"`
	RefreshCounter int64  `db:"refresh_counter"`
	RotatedAt      dbTime `db:"rotated_at"`
	RevokedAt      dbTime `db:"revoked_at"`
	JKT            string `db:"jkt"`
}

// session converts r. An unparsable IP (never written by this package)
// becomes the invalid address rather than an error.
func (r sessionRow) session() domain.Session {
	ip, _ := netip.ParseAddr(r.IP)
	var counter uint64
	if r.RefreshCounter > 0 {
		counter = uint64(r.RefreshCounter)
	}
	return domain.Session{
		ID:             r.ID,
		UserID:         r.UserID,
		DeviceID:       r.DeviceID,
		DeviceName:     r.DeviceName,
		IP:             ip,
		CreatedAt:      r.CreatedAt.Time,
		LastSeenAt:     r.LastSeenAt.Time,
		ExpiresAt:      r.ExpiresAt.Time,
		RefreshCounter: counter,
		RotatedAt:      r.RotatedAt.Time,
		RevokedAt:      r.RevokedAt.Time,
		JKT:            r.JKT,
	}
}

// sessionArgs returns s's columns as bind parameters in sessionColumns
// order. It fails with domain.ErrInvalidArgument for a counter the
// database cannot hold.
func sessionArgs(s domain.Session) ([]any, error) {
	if s.RefreshCounter > math.MaxInt64 {
		return nil, fmt.Errorf("%w: session %q: refresh counter %d too large", domain.ErrInvalidArgument, s.ID, s.RefreshCounter)
	}
	ip := ""
	if s.IP.IsValid() {
		ip = s.IP.String()
	}
	return []any{
		s.ID, s.UserID, s.DeviceID, s.DeviceName, ip,
		timeArg(s.CreatedAt), timeArg(s.LastSeenAt), timeArg(s.ExpiresAt),
		int64(s.RefreshCounter), nullTimeArg(s.RotatedAt), nullTimeArg(s.RevokedAt), s.JKT,
	}, nil
}

// generationRow is one row of the jwtauth_user_auth table.
type generationRow struct {
	TokenType  string `db:"token_type"`
	Generation string `db:"generation"`
}
