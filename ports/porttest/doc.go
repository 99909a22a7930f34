// Package porttest holds the exported contract test suites of jwtauth's
// ports, run against every implementation (memory, PostgreSQL, SQLite, ...)
// so that they all behave alike:
//
//	func TestStore(t *testing.T) {
//		porttest.StoreSuite(t, func(t *testing.T, pub ports.Publisher) ports.Store {
//			return memory.NewStore(pub)
//		})
//	}
//
// It also provides PublisherSpy, a ports.Publisher that records what it is
// given.
package porttest
