package web

import (
	"context"

	"github.com/jwtauth/jwtauth/app"
)

// principalKey is the context key of the authenticated principal. Both
// adapters use it, so a principal stored by either is found by both.
type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext[U any](ctx context.Context, p app.Principal[U]) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored in ctx by NewContext. It
// reports false when there is none or when it was stored with another
// user-claims type than U.
func FromContext[U any](ctx context.Context) (app.Principal[U], bool) {
	p, ok := ctx.Value(principalKey{}).(app.Principal[U])
	return p, ok
}
