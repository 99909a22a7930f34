package httpauth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/adapters/internal/web/webtest"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
)

func TestContract(t *testing.T) {
	webtest.Run(t, backend, driver)
}

// backend is the memory store, cache and bus with the real codec and
// cipher.
func backend(t testing.TB) webtest.Backend {
	key := bytes.Repeat([]byte{0x42}, 32)
	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: key})
	require.NoError(t, err)
	cipher, err := jwe.New(jwe.Key{ID: "k1", Secret: key})
	require.NoError(t, err)
	bus := &memory.Bus{}
	return webtest.Backend{Store: memory.NewStore(bus), Codec: codec, Cipher: cipher, Cache: &memory.Cache{}, Bus: bus}
}

// driver embeds httpauth in a standard library ServeMux the way the
// package doc shows.
func driver(t *testing.T, env webtest.Env) http.Handler {
	auth, err := httpauth.New(httpauth.Config[webtest.User]{Service: env.Service, TrustedProxies: env.TrustedProxies})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth.Handler()))
	mux.HandleFunc("POST "+webtest.LoginPath, func(w http.ResponseWriter, r *http.Request) {
		var req webtest.LoginRequest
		if err := httpauth.DecodeJSON(w, r, &req); err != nil {
			auth.Error(w, r, err)
			return
		}
		id, user, err := webtest.CheckLogin(req)
		if err != nil {
			auth.Error(w, r, err)
			return
		}
		auth.Login(w, r, id, user)
	})
	mux.Handle("GET "+webtest.MePath, auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := httpauth.FromContext[webtest.User](r.Context())
		if !ok {
			w.WriteHeader(http.StatusInternalServerError) // fails the suite
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(webtest.NewMe(p, true))
	})))
	return mux
}
