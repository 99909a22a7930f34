package memory

import (
	"context"
	"sync"

	"github.com/jwtauth/jwtauth/ports"
)

var (
	_ ports.Bus       = (*Bus)(nil)
	_ ports.Publisher = (*Bus)(nil)
)

// Bus is an in-process ports.Bus and ports.Publisher: Publish calls every
// subscriber synchronously, so an invalidation is in effect when Publish
// returns. It is always healthy. The zero value is ready to use.
type Bus struct {
	mu   sync.RWMutex
	subs []func(keys []string)
}

// Subscribe implements ports.Bus.
func (b *Bus) Subscribe(fn func(keys []string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs, fn)
}

// Healthy implements ports.Bus; the memory bus cannot lose messages.
func (b *Bus) Healthy() bool { return true }

// Publish implements ports.Publisher. Publishing no keys does nothing.
func (b *Bus) Publish(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(keys)
	}
	return nil
}
