package web

import (
	"context"

	"github.com/jwtauth/jwtauth/app"
)

// principalKey is the context key of the authenticated principal. Both
// adapters use it, so a principal stored by either is found by both.
type principalKey struct{}

// principalContext is ctx carrying a principal. It is what
// context.WithValue(ctx, principalKey{}, p) would be in one allocation
// instead of two (the context and p boxed in an interface): Value answers
// principalKey{} with a pointer to p, which boxes without allocating.
type principalContext[U any] struct {
	context.Context
	p app.Principal[U]
}

// Value implements context.Context.
func (c *principalContext[U]) Value(key any) any {
	if _, ok := key.(principalKey); ok {
		return &c.p
	}
	return c.Context.Value(key)
}

// NewContext returns a copy of ctx carrying p.
func NewContext[U any](ctx context.Context, p app.Principal[U]) context.Context {
	return &principalContext[U]{Context: ctx, p: p}
}

// FromContext returns the principal stored in ctx by NewContext. It
// reports false when there is none or when it was stored with another
// user-claims type than U.
func FromContext[U any](ctx context.Context) (app.Principal[U], bool) {
	if p, ok := ctx.Value(principalKey{}).(*app.Principal[U]); ok {
		return *p, true
	}
	return app.Principal[U]{}, false
}
