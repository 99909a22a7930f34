package porttest_test

import (
	"testing"

	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/ports"
	"github.com/jwtauth/jwtauth/ports/porttest"
)

func TestCacheSuiteMemory(t *testing.T) {
	porttest.CacheSuite(t, func(*testing.T) ports.Cache { return new(memory.Cache) })
}

func TestBusSuiteMemory(t *testing.T) {
	porttest.BusSuite(t, func(*testing.T) (ports.Publisher, []ports.Bus) {
		b := new(memory.Bus)
		return b, []ports.Bus{b}
	})
}
