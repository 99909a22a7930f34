package webtest

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
)

// MemoryBackend is the memory store, cache and bus with the real codec and
// cipher: the Backend both adapters' suites run on.
func MemoryBackend(t testing.TB) Backend {
	t.Helper()
	key := bytes.Repeat([]byte{0x42}, 32)
	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: key})
	require.NoError(t, err)
	cipher, err := jwe.New(jwe.Key{ID: "k1", Secret: key})
	require.NoError(t, err)
	bus := &memory.Bus{}
	return Backend{Store: memory.NewStore(bus), Codec: codec, Cipher: cipher, Cache: &memory.Cache{}, Bus: bus}
}

// NewService returns a service with the default config over a fresh
// MemoryBackend, for an adapter's own (non-suite) tests.
func NewService(t testing.TB) *app.Service[User] {
	t.Helper()
	b := MemoryBackend(t)
	svc, err := app.New(app.Config{}, app.Deps[User]{Store: b.Store, Codec: b.Codec, Cipher: b.Cipher, Cache: b.Cache, Bus: b.Bus})
	require.NoError(t, err)
	return svc
}

// Get sends a GET to url with header and returns the response and its
// whole body.
func Get(t testing.TB, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}
