package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/jwtauth/jwtauth/domain"
)

// Request body limits.
const (
	// MaxBodyBytes is the largest request body DecodeJSON reads; a larger
	// one is ErrBodyTooLarge (413).
	MaxBodyBytes = 64 << 10
	// MaxJSONDepth is the deepest nesting of arrays and objects DecodeJSON
	// accepts.
	MaxJSONDepth = 32
)

// WriteJSON writes v as a JSON response with status, and the headers every
// jwtauth response carries: Content-Type application/json, Cache-Control
// no-store and Pragma no-cache (the responses hold tokens or session
// metadata, RFC 6749 §5.1), X-Content-Type-Options nosniff. v must be one
// of this package's response types, which always encode.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Unreachable with this package's types; still never a 500.
		status = http.StatusServiceUnavailable
		body = []byte(`{"error":"unavailable","error_description":"the service is temporarily unavailable, retry later"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	noStore(h)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteNoContent writes a 204 with the no-store headers.
func WriteNoContent(w http.ResponseWriter) {
	noStore(w.Header())
	w.WriteHeader(http.StatusNoContent)
}

func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// DecodeJSON reads r's body (at most MaxBodyBytes, enforced with
// http.MaxBytesReader on w) and decodes it into v, a pointer to a struct.
// A Content-Type other than application/json (parameters allowed) is
// ErrUnsupportedMediaType (415), before the body is read: a web page can
// post application/json elsewhere only after a CORS preflight. It rejects,
// with an error wrapping domain.ErrInvalidArgument (400), an empty body,
// invalid UTF-8, invalid JSON, a top-level value that is not an object,
// trailing data after it, duplicate object keys (compared by the rule
// encoding/json matches field names with: case-insensitively with Unicode
// simple folding, so "uſername" duplicates "username"), nesting deeper
// than MaxJSONDepth, and values of the wrong type; a body over the limit
// is ErrBodyTooLarge (413). Unknown fields are ignored. The error never
// quotes the body.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		return ErrUnsupportedMediaType
	}
	if r.Body == nil || r.Body == http.NoBody {
		return fmt.Errorf("%w: empty request body", domain.ErrInvalidArgument)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return ErrBodyTooLarge
		}
		return fmt.Errorf("%w: reading the request body failed", domain.ErrInvalidArgument)
	}
	return Unmarshal(data, v)
}

// isJSONContentType reports whether a Content-Type value is
// application/json, with any parameters.
func isJSONContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && mt == "application/json"
}

// Unmarshal is DecodeJSON's checks and decoding on a body already read.
func Unmarshal(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%w: empty request body", domain.ErrInvalidArgument)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: request body is not valid UTF-8", domain.ErrInvalidArgument)
	}
	if err := checkJSON(data); err != nil {
		return fmt.Errorf("%w: request body: %w", domain.ErrInvalidArgument, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: request body has a value of the wrong type", domain.ErrInvalidArgument)
	}
	return nil
}

var (
	errNotObject = errors.New("not a JSON object")
	errSyntax    = errors.New("invalid JSON")
	errTrailing  = errors.New("data after the JSON object")
	errDuplicate = errors.New("duplicate key")
	errDepth     = errors.New("nested too deeply")
)

// checkJSON verifies that data is exactly one JSON object without
// duplicate keys and nested at most MaxJSONDepth deep. Its errors are
// fixed texts: they never quote the input.
func checkJSON(data []byte) error {
	type frame struct {
		object  bool
		wantKey bool // object frames: the next token is a key or '}'
		keys    map[string]struct{}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	done := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !done {
				return errSyntax
			}
			return nil
		}
		if err != nil {
			return errSyntax
		}
		if done {
			return errTrailing
		}
		if len(stack) == 0 && tok != json.Delim('{') {
			return errNotObject
		}
		if n := len(stack); n > 0 {
			top := stack[n-1]
			if top.object && top.wantKey {
				if tok == json.Delim('}') {
					stack = stack[:n-1]
					done = len(stack) == 0
					continue
				}
				key, ok := tok.(string)
				if !ok {
					return errSyntax
				}
				folded := string(foldName(key))
				if _, dup := top.keys[folded]; dup {
					return errDuplicate
				}
				top.keys[folded] = struct{}{}
				top.wantKey = false
				continue
			}
			if !top.object && tok == json.Delim(']') {
				stack = stack[:n-1]
				done = len(stack) == 0
				continue
			}
			if top.object {
				top.wantKey = true // after this value comes a key or '}'
			}
		}
		switch tok {
		case json.Delim('{'):
			if len(stack) >= MaxJSONDepth {
				return errDepth
			}
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]struct{}{}})
		case json.Delim('['):
			if len(stack) >= MaxJSONDepth {
				return errDepth
			}
			stack = append(stack, &frame{})
		}
	}
}

// foldName folds a member name the way encoding/json does when it matches
// names to struct fields (encoding/json's appendFoldedName): ASCII letters
// upper-cased, every other rune mapped to unicode.ToUpper(unicode.ToLower(r)).
// Two names fold equal exactly when encoding/json would decode both into
// the same field, so "uſername" (U+017F) and "username", or "Key"
// (Kelvin sign) and "key", are duplicates.
func foldName(name string) []byte {
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(name[i:])
		out = utf8.AppendRune(out, unicode.ToUpper(unicode.ToLower(r)))
		i += n
	}
	return out
}
