// Package notify is the wire format of cache invalidations sent with
// PostgreSQL NOTIFY: keys joined by "\n", split into payloads PostgreSQL
// accepts. The store that sends them inside its transactions (sqlstore)
// and the bus that sends and receives them (pgbus) share it.
package notify

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jwtauth/jwtauth/domain"
)

// MaxPayload is the largest payload sent in one NOTIFY. PostgreSQL refuses
// payloads of 8000 bytes or more.
const MaxPayload = 7900

// CheckKey returns an error wrapping domain.ErrInvalidArgument unless k
// can travel in a payload and come out whole: 1 to MaxPayload bytes of
// UTF-8 without "\n" (the separator) or NUL (which PostgreSQL text
// refuses).
func CheckKey(k string) error {
	if k == "" || len(k) > MaxPayload || !utf8.ValidString(k) || strings.ContainsAny(k, "\n\x00") {
		return fmt.Errorf("%w: invalidation key %.40q: must be 1 to %d bytes of UTF-8 without newline or NUL",
			domain.ErrInvalidArgument, k, MaxPayload)
	}
	return nil
}

// Payloads checks every key with CheckKey and joins them into payloads of
// at most MaxPayload bytes. No keys give no payloads.
func Payloads(keys []string) ([]string, error) {
	for _, k := range keys {
		if err := CheckKey(k); err != nil {
			return nil, err
		}
	}
	return join(keys, MaxPayload), nil
}

// join joins keys with "\n" into as few payloads as possible, each at most
// limit bytes, in order. A key longer than limit travels alone.
func join(keys []string, limit int) []string {
	var out []string
	var cur strings.Builder
	for _, k := range keys {
		if cur.Len() > 0 && cur.Len()+1+len(k) > limit {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(k)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// Split returns the keys of a payload; an empty payload has none.
func Split(payload string) []string {
	if payload == "" {
		return nil
	}
	return strings.Split(payload, "\n")
}
