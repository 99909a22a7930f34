// Package web is the transport code shared by jwtauth's HTTP adapters
// (echoauth and httpauth), which must not import each other: resolving the
// client (peer address, trusted proxies, device id), extracting access
// tokens from the Authorization header or the access cookie, the browser
// group's cookies and cross-origin check, decoding JSON request bodies strictly, the single table that maps
// domain errors to HTTP statuses and error codes, the response bodies of the
// reference HTTP contract, and the route logic itself over plain net/http
// values.
//
// Everything here is written against http.ResponseWriter and *http.Request
// so that each adapter is a thin shell: it routes, calls a Handlers method,
// and writes the returned error through its own error hook or WriteError.
//
// Invariants every function here keeps:
//
//   - nothing the client sends produces a 500 or a panic; unknown errors
//     are 503 "unavailable" (fail closed) and are logged;
//   - an error body's description is a fixed text chosen by the error
//     code's table entry, never the error string, which could echo input;
//   - every 401 carries a WWW-Authenticate challenge (RFC 6750);
//   - every JSON response carries Cache-Control: no-store.
package web
