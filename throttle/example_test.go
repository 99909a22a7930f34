package throttle_test

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"

	"github.com/jwtauth/jwtauth/throttle"
)

// checkPassword stands for the application's own (bcrypt) check.
func checkPassword(username, password string) bool {
	return username == "alice" && subtle.ConstantTimeCompare([]byte(password), []byte("alice-password")) == 1
}

// An application's own login handler: Begin before the password check,
// Succeed or Fail after it, 429 with Retry-After on ErrLimited.
func Example() {
	th := throttle.New(throttle.Config{Burst: 3})
	login := func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		ip, _ := netip.ParseAddr(host)
		tooMany := func(err error) {
			if le, ok := errors.AsType[*throttle.LimitedError](err); ok {
				w.Header().Set("Retry-After", strconv.FormatInt(le.RetryAfterSeconds(), 10))
			}
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		}
		attempt, err := th.Begin(req.Username, ip)
		if err != nil {
			tooMany(err) // nothing was checked
			return
		}
		if !checkPassword(req.Username, req.Password) {
			if err := attempt.Fail(); err != nil {
				tooMany(err)
				return
			}
			http.Error(w, "invalid credentials", http.StatusUnauthorized)
			return
		}
		attempt.Succeed()
		fmt.Fprintln(w, "welcome") // issue tokens here
	}

	for _, password := range []string{"guess1", "guess2", "guess3", "guess4", "alice-password"} {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(`{"username":"alice","password":"`+password+`"}`))
		w := httptest.NewRecorder()
		login(w, r)
		fmt.Printf("%s %d Retry-After=%q\n", password, w.Code, w.Header().Get("Retry-After"))
	}
	// Output:
	// guess1 401 Retry-After=""
	// guess2 401 Retry-After=""
	// guess3 401 Retry-After=""
	// guess4 429 Retry-After="10"
	// alice-password 429 Retry-After="10"
}
