package bcache_test

import (
	"fmt"
	"time"

	"github.com/jwtauth/jwtauth/adapters/bcache"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

func ExampleNew() {
	// Sized for 200,000 entries: about 10 MiB reserved up front, room to
	// grow to the default MaxMB (64 MiB); entries served for a minute at
	// most.
	cache, err := bcache.New(bcache.Config{TTL: time.Minute, MaxEntries: 200_000})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cache.Close()

	key := ports.GenerationKey("alice", domain.Access)
	cache.Set(key, []byte("6f1c2d9e-8b1a-4c3e-9f00-7a6b5c4d3e2f"))
	gen, ok := cache.Get(key)
	fmt.Println(string(gen), ok)

	cache.Delete(key) // what the Service does when the bus announces key
	_, ok = cache.Get(key)
	fmt.Println(ok)
	// Output:
	// 6f1c2d9e-8b1a-4c3e-9f00-7a6b5c4d3e2f true
	// false
}
