// Package webtest is the behaviour suite of jwtauth's HTTP adapters: one
// list of cases (Cases) of the reference HTTP contract, run by Run against
// a real server (httptest on 127.0.0.1, clients dialing from other 127/8
// addresses to vary the true peer IP) built by each adapter's Driver. The
// caller supplies the Backend (store, codec, cipher, cache, bus);
// MemoryBackend is the one both adapters use. NewService and Get serve the
// adapters' own tests.
package webtest
