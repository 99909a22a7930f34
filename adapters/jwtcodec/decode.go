package jwtcodec

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"unicode/utf8"
)

// decode decodes a token payload into c exactly as json.Unmarshal(p, c)
// would, c.User included.
//
// With encoding/json, decoding was half of Parse's time: a validating scan
// of the whole payload, then a reflective decoding pass. The payloads Sign
// writes are one flat object of known keys, plain strings and numbers, so
// decodeFast reads that shape directly and leaves anything else (an
// escape sequence, an unknown or repeated key, a value of the wrong kind,
// any error) to json.Unmarshal, which then gives the answer, error
// included. The "usr" claim, whose type is the application's, is always
// decoded by encoding/json, or by its own UnmarshalJSON when it has one
// (which is what encoding/json would call).
//
// ps is p as a string: the string claims are slices of it, so that one
// allocation holds them all. p is not retained.
func (c *claims) decode(p []byte, ps string) error {
	user := c.User
	if c.decodeFast(p, ps) {
		return nil
	}
	// A copy is decoded, so that c itself does not escape to the heap.
	slow := &claims{User: user}
	err := json.Unmarshal(p, slow)
	*c = *slow
	return err
}

// The claims decodeFast knows, as bits of a set.
const (
	keyIss = 1 << iota
	keyAud
	keySub
	keyExp
	keyNbf
	keyIat
	keyJti
	keyTyp
	keySid
	keyGen
	keyIP
	keyDev
	keyUsr
	keyRfc
	keyCnf
)

// decodeFast decodes p into c and reports true when p is a JSON object
// whose keys are all distinct, known and written without escapes, whose
// string claims are strings without escapes or control characters in
// valid UTF-8, and whose other claims decode without error. Otherwise it
// reports false, leaving c partly written and c.User untouched.
func (c *claims) decodeFast(p []byte, ps string) bool {
	i := skipSpace(p, 0)
	if i == len(p) || p[i] != '{' {
		return false
	}
	i = skipSpace(p, i+1)
	var seen int
	var usr []byte
	if i < len(p) && p[i] == '}' {
		return skipSpace(p, i+1) == len(p)
	}
	for {
		key, j, ok := plainString(p, i)
		if !ok {
			return false
		}
		i = skipSpace(p, j)
		if i == len(p) || p[i] != ':' {
			return false
		}
		i = skipSpace(p, i+1)
		bit := keyBit(key)
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case keyIss, keySub, keyJti, keyTyp, keySid, keyGen, keyDev, keyIP:
			start := i + 1
			if _, i, ok = plainString(p, i); !ok {
				return false
			}
			s := ps[start : i-1] // the contents, without the quotes
			switch bit {
			case keyIss:
				c.Issuer = s
			case keySub:
				c.Subject = s
			case keyJti:
				c.ID = s
			case keyTyp:
				c.Type = s
			case keySid:
				c.SessionID = s
			case keyGen:
				c.Generation = s
			case keyDev:
				c.DeviceID = s
			case keyIP:
				// What netip.Addr.UnmarshalText does, without copying s.
				c.IP = netip.Addr{}
				if s != "" {
					ip, err := netip.ParseAddr(s)
					if err != nil {
						return false
					}
					c.IP = ip
				}
			}
		case keyExp, keyNbf, keyIat, keyRfc:
			// The run of number characters: rawValue's answer for a
			// number, and a shorter one than rawValue's for anything
			// else, which the next check or the delimiter refuses.
			j := i
			for j < len(p) && isNumberByte(p[j]) {
				j++
			}
			raw := p[i:j]
			if i = j; !isNumber(raw) {
				return false
			}
			var err error
			switch bit {
			case keyExp:
				err = c.ExpiresAt.UnmarshalJSON(raw)
			case keyNbf:
				err = c.NotBefore.UnmarshalJSON(raw)
			case keyIat:
				err = c.IssuedAt.UnmarshalJSON(raw)
			case keyRfc:
				if raw[0] == '-' { // encoding/json refuses it for a uint64
					return false
				}
				c.RefreshCounter, err = strconv.ParseUint(string(raw), 10, 64)
			}
			if err != nil {
				return false
			}
		case keyCnf:
			if c.Confirmation.JKT, i, ok = confirmationJKT(p, ps, i); !ok {
				return false
			}
		case keyAud:
			var raw []byte
			if raw, i, ok = rawValue(p, i); !ok || !json.Valid(raw) || c.Audience.UnmarshalJSON(raw) != nil {
				return false
			}
		case keyUsr:
			// Validated when decoded, at the end.
			if usr, i, ok = rawValue(p, i); !ok || usr[0] == 'n' { // null: encoding/json's rules apply
				return false
			}
		}
		i = skipSpace(p, i)
		if i == len(p) {
			return false
		}
		if p[i] == '}' {
			break
		}
		if p[i] != ',' {
			return false
		}
		i = skipSpace(p, i+1)
	}
	if skipSpace(p, i+1) != len(p) {
		return false
	}
	if usr != nil {
		switch u := c.User.(type) {
		case *skipJSON:
			return validJSON(usr)
		case json.Unmarshaler:
			// encoding/json validates, then calls UnmarshalJSON with the
			// value's bytes, as here.
			return validJSON(usr) && u.UnmarshalJSON(usr) == nil
		}
		return json.Unmarshal(usr, c.User) == nil
	}
	return true
}

// validJSON is json.Valid(p), answered without encoding/json's scanner
// (a fifth of decodeFast's time) when p is a flat object of plain
// strings, numbers, booleans and nulls, the usual user claims.
func validJSON(p []byte) bool {
	return flatObject(p) || json.Valid(p)
}

// flatObject reports whether p is a JSON object whose keys are plain
// strings (see plainString) and whose values are plain strings, numbers,
// true, false or null. False only means "not of that shape".
func flatObject(p []byte) bool {
	i := skipSpace(p, 0)
	if i == len(p) || p[i] != '{' {
		return false
	}
	if i = skipSpace(p, i+1); i < len(p) && p[i] == '}' {
		return skipSpace(p, i+1) == len(p)
	}
	for {
		var ok bool
		if _, i, ok = plainString(p, i); !ok {
			return false
		}
		if i = skipSpace(p, i); i == len(p) || p[i] != ':' {
			return false
		}
		i = skipSpace(p, i+1)
		if i == len(p) {
			return false
		}
		switch b := p[i]; {
		case b == '"':
			if _, i, ok = plainString(p, i); !ok {
				return false
			}
		case b == 't' || b == 'f' || b == 'n':
			lit := "null"
			if b == 't' {
				lit = "true"
			} else if b == 'f' {
				lit = "false"
			}
			if len(p)-i < len(lit) || string(p[i:i+len(lit)]) != lit {
				return false
			}
			i += len(lit)
		default:
			j := i
			for j < len(p) && isNumberByte(p[j]) {
				j++
			}
			if !isNumber(p[i:j]) {
				return false
			}
			i = j
		}
		if i = skipSpace(p, i); i == len(p) {
			return false
		}
		switch p[i] {
		case '}':
			return skipSpace(p, i+1) == len(p)
		case ',':
			i = skipSpace(p, i+1)
		default:
			return false
		}
	}
}

// isNumberByte reports whether b can occur in a JSON number.
func isNumberByte(b byte) bool {
	return '0' <= b && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E'
}

// isNumber reports whether p is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(p []byte) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(p) && '0' <= p[i] && p[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(p) && p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(p) && p[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(p)
}

// keyBit returns the bit of a claim name, or 0 for any other key.
func keyBit(key []byte) int {
	switch string(key) {
	case "iss":
		return keyIss
	case "aud":
		return keyAud
	case "sub":
		return keySub
	case "exp":
		return keyExp
	case "nbf":
		return keyNbf
	case "iat":
		return keyIat
	case "jti":
		return keyJti
	case "typ":
		return keyTyp
	case "sid":
		return keySid
	case "gen":
		return keyGen
	case "ip":
		return keyIP
	case "dev":
		return keyDev
	case "usr":
		return keyUsr
	case "rfc":
		return keyRfc
	case "cnf":
		return keyCnf
	}
	return 0
}

// confirmationJKT reads the "cnf" object starting at p[i] when it is what
// Sign writes, {"jkt":"<plain string>"}, and returns the thumbprint (a
// slice of ps) and the index after the object.
func confirmationJKT(p []byte, ps string, i int) (jkt string, next int, ok bool) {
	if i == len(p) || p[i] != '{' {
		return "", i, false
	}
	i = skipSpace(p, i+1)
	key, i, ok := plainString(p, i)
	if !ok || string(key) != "jkt" {
		return "", i, false
	}
	if i = skipSpace(p, i); i == len(p) || p[i] != ':' {
		return "", i, false
	}
	i = skipSpace(p, i+1)
	start := i + 1
	if _, i, ok = plainString(p, i); !ok {
		return "", i, false
	}
	jkt = ps[start : i-1]
	if i = skipSpace(p, i); i == len(p) || p[i] != '}' {
		return "", i, false
	}
	return jkt, i + 1, true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// plainString reads the JSON string starting at p[i] and returns its
// contents and the index after it. It reports false for anything but a
// string of valid UTF-8 without escapes or control characters, the
// strings whose contents are their JSON text.
func plainString(p []byte, i int) (s []byte, next int, ok bool) {
	if i == len(p) || p[i] != '"' {
		return nil, i, false
	}
	ascii := true
	for j := i + 1; j < len(p); j++ {
		b := p[j]
		if plainByte[b] { // the common case: one table lookup a byte
			continue
		}
		switch {
		case b == '"':
			s = p[i+1 : j]
			return s, j + 1, ascii || utf8.Valid(s)
		case b == '\\' || b < 0x20:
			return nil, i, false
		default: // b >= utf8.RuneSelf
			ascii = false
		}
	}
	return nil, i, false
}

// plainByte tells the bytes a plain string's contents may hold as they
// are: printable ASCII but the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// rawValue returns the JSON value starting at p[i] and the index after
// it. It only finds where the value ends; callers validate it.
func rawValue(p []byte, i int) (raw []byte, next int, ok bool) {
	depth := 0
	inString := false
	for j := i; j < len(p); j++ {
		b := p[j]
		switch {
		case inString:
			if b == '\\' {
				j++
			} else if b == '"' {
				inString = false
				if depth == 0 {
					return p[i : j+1], j + 1, true
				}
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
		case b == '}' || b == ']':
			if depth == 0 { // the end of the enclosing object
				return p[i:j], j, j > i
			}
			if depth--; depth == 0 {
				return p[i : j+1], j + 1, true
			}
		case depth == 0 && (b == ',' || b == ' ' || b == '\t' || b == '\n' || b == '\r'):
			return p[i:j], j, j > i
		}
	}
	return nil, i, false
}
