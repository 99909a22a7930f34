package jwe

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jwtauth/jwtauth/domain"
)

// KeySize is the length of a key's secret in bytes (AES-256).
const KeySize = 32

// maxKeyIDLen bounds the length of a key id.
const maxKeyIDLen = 64

// Key is one key of the ring.
type Key struct {
	// ID is the key id written as the header's "kid": 1 to 64 characters
	// from [A-Za-z0-9._-].
	ID string
	// Secret is the AES-256 key: exactly KeySize bytes.
	Secret []byte
}

// GenerateKey returns a key with the given id and a random secret. The id
// is checked by New and ParseKeys, not here.
func GenerateKey(id string) Key {
	secret := make([]byte, KeySize)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+).
	return Key{ID: id, Secret: secret}
}

// FormatKeys returns keys in the format ParseKeys reads:
// "kid:base64key,kid2:base64key" (standard base64 with padding).
func FormatKeys(keys []Key) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k.ID)
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(k.Secret))
	}
	return b.String()
}

// ParseKeys parses a key ring written "kid:base64key,kid2:base64key", the
// format of the JWTAUTH_ENCRYPTION_KEYS variable. The secrets may use the
// standard or the URL-safe base64 alphabet, with or without padding; spaces
// around entries are ignored. The keys are checked as New checks them.
// Errors wrap domain.ErrInvalidArgument and never contain key material.
func ParseKeys(s string) ([]Key, error) {
	if strings.TrimSpace(s) == "" {
		return nil, validate(nil)
	}
	var keys []Key
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		id, secret, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("%w: jwe: key entry %d: want kid:base64key", domain.ErrInvalidArgument, i+1)
		}
		if !validID(id) {
			return nil, fmt.Errorf("%w: jwe: key entry %d: invalid key id", domain.ErrInvalidArgument, i+1)
		}
		raw, err := decodeKey(secret)
		if err != nil {
			// Not the id: an entry written the wrong way round would put
			// the secret there.
			return nil, fmt.Errorf("%w: jwe: key entry %d: secret is not base64", domain.ErrInvalidArgument, i+1)
		}
		keys = append(keys, Key{ID: id, Secret: raw})
	}
	if err := validate(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// decodeKey decodes standard or URL-safe base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// validate checks a key ring: not empty, valid and unique ids, secrets of
// KeySize bytes.
func validate(keys []Key) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: jwe: empty key ring", domain.ErrInvalidArgument)
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		if !validID(k.ID) {
			return fmt.Errorf("%w: jwe: key %d: id must be 1 to %d characters from [A-Za-z0-9._-]",
				domain.ErrInvalidArgument, i+1, maxKeyIDLen)
		}
		if seen[k.ID] {
			return fmt.Errorf("%w: jwe: duplicate key id %q", domain.ErrInvalidArgument, k.ID)
		}
		seen[k.ID] = true
		if len(k.Secret) != KeySize {
			return fmt.Errorf("%w: jwe: key %q: secret must be %d bytes, got %d",
				domain.ErrInvalidArgument, k.ID, KeySize, len(k.Secret))
		}
	}
	return nil
}

// validID reports whether id is a usable key id. Such ids need no escaping
// in JSON, so headers can be built by concatenation.
func validID(id string) bool {
	if id == "" || len(id) > maxKeyIDLen {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// String prints the key id and hides the secret, so that a Key can be
// logged.
func (k Key) String() string { return "jwe.Key{ID:" + k.ID + " Secret:[redacted]}" }

// GoString hides the secret from %#v too.
func (k Key) GoString() string { return k.String() }
