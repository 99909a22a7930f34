package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// nonceContext separates nonce MACs from any other use of the key.
const nonceContext = "jwtauth dpop nonce v1\x00"

// nonces makes and checks stateless server nonces (RFC 9449 §8): the
// issue time, sealed with HMAC-SHA256 under a shared key, so that every
// instance holding the key accepts a nonce made by any of them, and none
// needs to remember it. A nonce is base64url(8-byte unix time || first 16
// bytes of the MAC): 32 characters.
type nonces struct {
	key      []byte
	lifetime time.Duration
	skew     time.Duration
}

func newNonces(key []byte, lifetime, skew time.Duration) (*nonces, error) {
	if len(key) < 32 {
		return nil, errors.New("dpop: NonceKey must be at least 32 bytes")
	}
	return &nonces{key: append([]byte(nil), key...), lifetime: lifetime, skew: skew}, nil
}

func (n *nonces) mac(ts []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write([]byte(nonceContext))
	m.Write(ts)
	return m.Sum(nil)[:16]
}

func (n *nonces) issue(now time.Time) string {
	var buf [24]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(now.Unix())) // #nosec G115 -- times before 1970 do not occur
	copy(buf[8:], n.mac(buf[:8]))
	return b64.EncodeToString(buf[:])
}

// valid reports whether nonce was issued with this key no longer than
// lifetime before now (and not more than skew after it, for instances
// whose clocks differ).
func (n *nonces) valid(nonce string, now time.Time) bool {
	if len(nonce) != 32 {
		return false
	}
	raw, err := b64.DecodeString(nonce)
	if err != nil || len(raw) != 24 {
		return false
	}
	if !hmac.Equal(raw[8:], n.mac(raw[:8])) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0) // #nosec G115 -- authenticated value written by issue
	age := now.Sub(issued)
	return age <= n.lifetime && age >= -n.skew
}
