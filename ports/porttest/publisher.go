package porttest

import (
	"context"
	"slices"
	"sync"

	"github.com/jwtauth/jwtauth/ports"
)

// PublisherSpy is a ports.Publisher that records every call. It is safe
// for concurrent use. The zero value is ready to use.
type PublisherSpy struct {
	// Err, when set before use, is returned by every Publish call (the
	// keys are still recorded).
	Err error

	mu    sync.Mutex
	calls [][]string
}

var _ ports.Publisher = (*PublisherSpy)(nil)

// Publish records keys and returns p.Err.
func (p *PublisherSpy) Publish(_ context.Context, keys ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, slices.Clone(keys))
	return p.Err
}

// Calls returns the keys of each Publish call so far, in call order.
func (p *PublisherSpy) Calls() [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][]string, len(p.calls))
	for i, c := range p.calls {
		out[i] = slices.Clone(c)
	}
	return out
}

// Keys returns every key published so far, in order, repeats included.
func (p *PublisherSpy) Keys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, c := range p.calls {
		out = append(out, c...)
	}
	return out
}

// Reset forgets the calls recorded so far.
func (p *PublisherSpy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}
