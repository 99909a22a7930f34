package bcache

import (
	"strings"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// Entries are stored packed, which takes a generation entry from 82 to 48
// bytes (a user id of 11 characters, bigcache's 19 bytes of headers
// included):
//
//   - A key of one of the shapes jwtauth uses (ports.GenerationKey,
//     ports.SessionKey) loses its constant parts to a one-byte tag; any
//     other key is stored behind tagRaw. A session id of domain.NewID's
//     form (26 base32 characters) packs into 17 bytes behind tagSessionID.
//     The mapping is injective, so bigcache's collision check on the
//     stored key stays exact.
//   - A value that is a canonical UUID (a generation: 36 characters,
//     lowercase hex) is stored as its 16 bytes behind valUUID; any other
//     value behind valRaw.
const (
	tagRaw byte = iota
	tagAccessGen
	tagRefreshGen
	tagSession
	tagSessionID // a session key whose id is a domain.NewID: 17 bytes
)

const (
	valRaw byte = iota
	valUUID
)

// keyShape is a key format: the prefix and suffix around a variable id.
type keyShape struct {
	tag            byte
	prefix, suffix string
}

// keyShapes are derived from the ports' key functions so that they follow
// any change of format.
var keyShapes = [...]keyShape{
	shapeOf(tagAccessGen, ports.GenerationKey("\x00", domain.Access)),
	shapeOf(tagRefreshGen, ports.GenerationKey("\x00", domain.Refresh)),
	shapeOf(tagSession, ports.SessionKey("\x00")),
}

func shapeOf(tag byte, key string) keyShape {
	prefix, suffix, _ := strings.Cut(key, "\x00")
	return keyShape{tag: tag, prefix: prefix, suffix: suffix}
}

// packKey returns the stored form of key.
func packKey(key string) string {
	for _, s := range keyShapes {
		if len(key) >= len(s.prefix)+len(s.suffix) &&
			strings.HasPrefix(key, s.prefix) && strings.HasSuffix(key, s.suffix) {
			id := key[len(s.prefix) : len(key)-len(s.suffix)]
			if s.tag == tagSession {
				return packSessionKey(id)
			}
			return string(s.tag) + id
		}
	}
	return string(tagRaw) + key
}

// packGenerationKey is packKey(ports.GenerationKey(userID, typ)): a
// generation key never matches another shape first (TestPackParts).
func packGenerationKey(userID string, typ domain.TokenType) string {
	tag := tagAccessGen
	if typ == domain.Refresh {
		tag = tagRefreshGen
	}
	return string(tag) + userID
}

// packSessionKey is packKey(ports.SessionKey(sessionID)).
func packSessionKey(sessionID string) string {
	if b, ok := packID(sessionID); ok {
		return string(tagSessionID) + string(b[:])
	}
	return string(tagSession) + sessionID
}

// valueIs reports whether the stored form p unpacks to v, without
// unpacking it; ok is false, as for unpackValue, when p is malformed.
func valueIs(p []byte, v string) (match, ok bool) {
	switch {
	case len(p) >= 1 && p[0] == valRaw:
		return string(p[1:]) == v, true
	case len(p) == 1+16 && p[0] == valUUID:
		var b [16]byte
		return len(v) == uuidLen && decodeUUID(b[:], []byte(v)) && string(b[:]) == string(p[1:]), true
	}
	return false, false
}

// uuidLen is the length of a canonical UUID: 8-4-4-4-12 hex digits.
const uuidLen = 36

// packValue returns the stored form of v, always a new slice.
func packValue(v []byte) []byte {
	if len(v) == uuidLen {
		var b [1 + 16]byte
		if b[0] = valUUID; decodeUUID(b[1:], v) {
			return b[:]
		}
	}
	return append([]byte{valRaw}, v...)
}

// unpackValue returns the value stored as p, reusing p's memory where it
// can; p must not be used afterwards. A malformed p is a miss.
func unpackValue(p []byte) ([]byte, bool) {
	switch {
	case len(p) >= 1 && p[0] == valRaw:
		return p[1:], true
	case len(p) == 1+16 && p[0] == valUUID:
		return encodeUUID(p[1:]), true
	}
	return nil, false
}

// decodeUUID decodes the canonical, lowercase text of a UUID into dst
// (16 bytes). It reports false, and dst is garbage, when v is anything
// else: upper case, braces or missing dashes would not survive the round
// trip.
func decodeUUID(dst []byte, v []byte) bool {
	if len(v) != uuidLen || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-' {
		return false
	}
	for j, i := range uuidPairs {
		hi, lo := lowerHex[v[i]], lowerHex[v[i+1]]
		if hi|lo > 0xf {
			return false
		}
		dst[j] = hi<<4 | lo
	}
	return true
}

// uuidPairs are the offsets of the 16 hex pairs in a UUID's text.
var uuidPairs = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// lowerHex maps '0'-'9' and 'a'-'f' to their values, every other byte to
// 0xff.
var lowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range 10 {
		t['0'+i] = byte(i)
	}
	for i := range 6 {
		t['a'+i] = byte(10 + i)
	}
	return t
}()

// encodeUUID returns the canonical text of the 16-byte UUID b.
func encodeUUID(b []byte) []byte { return domain.AppendUUID(make([]byte, 0, uuidLen), b) }

// idLen is the length of a domain.NewID: 26 characters of the base32
// alphabet A-Z, 2-7 (130 bits).
const idLen = 26

// packID packs an id of domain.NewID's form into 17 bytes, 5 bits a
// character. Distinct ids give distinct bytes; anything else reports
// false.
func packID(id string) ([17]byte, bool) {
	var out [17]byte
	if len(id) != idLen {
		return out, false
	}
	var acc uint
	bits, j := 0, 0
	for i := range len(id) {
		c := id[i]
		var v byte
		switch {
		case c >= 'A' && c <= 'Z':
			v = c - 'A'
		case c >= '2' && c <= '7':
			v = c - '2' + 26
		default:
			return out, false
		}
		acc = acc<<5 | uint(v)
		bits += 5
		for bits >= 8 {
			bits -= 8
			out[j] = byte(acc >> bits) // #nosec G115 -- keeps the low 8 bits on purpose
			j++
		}
	}
	out[j] = byte(acc << (8 - bits)) // #nosec G115 -- the last 2 bits, left-aligned
	return out, true
}
