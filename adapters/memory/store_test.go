package memory_test

import (
	"testing"

	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/ports"
	"github.com/jwtauth/jwtauth/ports/porttest"
)

func TestStoreContract(t *testing.T) {
	porttest.StoreSuite(t, func(_ *testing.T, pub ports.Publisher) ports.Store {
		return memory.NewStore(pub)
	})
}
