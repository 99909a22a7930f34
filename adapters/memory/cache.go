package memory

import (
	"sync"

	"github.com/jwtauth/jwtauth/ports"
)

var _ ports.Cache = (*Cache)(nil)

// Cache is an unbounded in-memory ports.Cache for tests and small
// programs; use the bigcache adapter in production. The zero value is
// ready to use.
type Cache struct {
	m sync.Map // string -> []byte
}

// Get implements ports.Cache.
func (c *Cache) Get(key string) ([]byte, bool) {
	v, ok := c.m.Load(key)
	if !ok {
		return nil, false
	}
	return v.([]byte), true
}

// Set implements ports.Cache. It stores a copy of value.
func (c *Cache) Set(key string, value []byte) {
	c.m.Store(key, append([]byte(nil), value...))
}

// Delete implements ports.Cache.
func (c *Cache) Delete(keys ...string) {
	for _, k := range keys {
		c.m.Delete(k)
	}
}

// Reset implements ports.Cache.
func (c *Cache) Reset() { c.m.Clear() }
