package app

import (
	"context"

	"github.com/jwtauth/jwtauth/domain"
)

// AuthenticateBare is Authenticate without its span, its metrics and the
// store and cache wrappers: the baseline of
// BenchmarkAuthenticateTelemetry. It unwraps s for good.
func (s *Service[U]) AuthenticateBare(ctx context.Context, raw string, client domain.ClientInfo) (Principal[U], error) {
	if c, ok := s.deps.Cache.(countingCache); ok {
		s.deps.Cache = c.Cache
	}
	if st, ok := s.deps.Store.(tracedStore); ok {
		s.deps.Store = st.Store
	}
	return s.authenticate(ctx, raw, client)
}
