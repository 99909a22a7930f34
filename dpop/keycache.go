package dpop

import (
	"crypto"
	"crypto/sha256"
	"sync"
)

// keyCacheSize bounds the key cache, in keys. An entry holds a 32-byte
// digest, the parsed public key and its thumbprint: about 270 bytes of
// heap for a P-256 key (about 1.1 MB when full), under 1 KiB for a
// 4096-bit RSA key.
const keyCacheSize = 4096

// keyCache remembers the outcome of parsing a jwk header that passed
// every check of publicKey except the algorithm fit: the key and its
// thumbprint, by the SHA-256 of the header's exact bytes. A client sends
// the same jwk, byte for byte, in every proof, so that its key is parsed
// and hashed once. What is cached is a function of those bytes alone,
// which the digest stands for; failures are not cached. When full, an
// arbitrary entry makes room: an attacker sending many keys only costs
// the parse again. It is safe for concurrent use.
type keyCache struct {
	mu   sync.Mutex
	keys map[[sha256.Size]byte]parsedKey
}

// parsedKey is a cached jwk: the public key (shared by every proof with
// this jwk: never modified) and its RFC 7638 thumbprint.
type parsedKey struct {
	key crypto.PublicKey
	jkt string
}

func newKeyCache() *keyCache {
	return &keyCache{keys: make(map[[sha256.Size]byte]parsedKey)}
}

func (c *keyCache) get(id [sha256.Size]byte) (parsedKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[id]
	return k, ok
}

func (c *keyCache) put(id [sha256.Size]byte, k parsedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.keys[id]; !ok && len(c.keys) >= keyCacheSize {
		for old := range c.keys {
			delete(c.keys, old)
			break
		}
	}
	c.keys[id] = k
}
