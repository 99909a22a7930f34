package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/echoauth"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/floor"
)

// User is the user claims every server's token carries.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

var alice = User{Name: "Alice", Role: "admin"}

// baselineClaims are the claims of a jwtauth access token as a
// hand-rolled golang-jwt middleware would declare them.
type baselineClaims struct {
	jwt.RegisteredClaims
	Type       string `json:"typ"`
	SessionID  string `json:"sid"`
	Generation string `json:"gen"`
	IP         string `json:"ip"`
	Device     string `json:"dev"`
	User       User   `json:"usr"`
}

// runServer serves the handler of kind on a new 127.0.0.1 port, prints its
// target as one JSON line and serves until SIGTERM or SIGINT. With a
// cpuProfile path it profiles the serving and writes the profile there.
func runServer(kind string, out io.Writer, cpuProfile string) error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	headers := map[string]string{}
	switch kind {
	case "bare":
		e.GET("/hello", func(c echo.Context) error { return c.String(http.StatusOK, alice.Name) })
	case "echo-jwt":
		key := randomKey()
		now := time.Now()
		claims := &baselineClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Subject: "alice", ID: domain.NewID(),
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
				NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now),
			},
			Type: "access", SessionID: domain.NewID(), Generation: domain.NewGeneration(),
			IP: "127.0.0.1", Device: "load-generator", User: alice,
		}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
		if err != nil {
			return err
		}
		e.GET("/hello", func(c echo.Context) error {
			tok, ok := c.Get("user").(*jwt.Token)
			if !ok {
				return echo.ErrUnauthorized
			}
			return c.String(http.StatusOK, tok.Claims.(*baselineClaims).User.Name)
		}, echojwt.WithConfig(echojwt.Config{
			SigningKey:    key,
			NewClaimsFunc: func(echo.Context) jwt.Claims { return new(baselineClaims) },
		}))
		headers["Authorization"] = "Bearer " + tok
	case "bare-token":
		// Bare Echo receiving the very request jwtauth's server gets,
		// token included and ignored: what carrying the token costs.
		_, tok, stop, err := jwtauthMiddleware(randomKey(), randomKey())
		if err != nil {
			return err
		}
		stop()
		e.GET("/hello", func(c echo.Context) error { return c.String(http.StatusOK, alice.Name) })
		headers["Authorization"] = "Bearer " + tok
		headers["X-Device-ID"] = "load-generator"
	case "floor":
		// Only the work no implementation can skip (package floor) on
		// jwtauth's token: the best any middleware for it could do.
		signKey, encKey := randomKey(), randomKey()
		_, tok, stop, err := jwtauthMiddleware(signKey, encKey)
		if err != nil {
			return err
		}
		stop()
		checkers := sync.Pool{New: func() any {
			f, err := floor.New(encKey, signKey)
			if err != nil {
				panic(err) // the keys are 32 bytes: cannot happen
			}
			return f
		}}
		e.GET("/hello", func(c echo.Context) error { return c.String(http.StatusOK, alice.Name) },
			func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					raw, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
					f := checkers.Get().(*floor.Checker)
					defer checkers.Put(f)
					if !ok || f.Check(raw) != nil {
						return echo.ErrUnauthorized
					}
					return next(c)
				}
			})
		headers["Authorization"] = "Bearer " + tok
		headers["X-Device-ID"] = "load-generator"
	case "jwtauth":
		mw, tok, stop, err := jwtauthMiddleware(randomKey(), randomKey())
		if err != nil {
			return err
		}
		defer stop()
		e.GET("/hello", func(c echo.Context) error {
			p, ok := echoauth.Principal[User](c)
			if !ok {
				return echo.ErrUnauthorized
			}
			return c.String(http.StatusOK, p.User.Name)
		}, mw)
		headers["Authorization"] = "Bearer " + tok
		headers["X-Device-ID"] = "load-generator"
	default:
		return fmt.Errorf("unknown server %q", kind)
	}
	e.GET("/_cpu", func(c echo.Context) error {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return err
		}
		us := ru.Utime.Nano()/1e3 + ru.Stime.Nano()/1e3
		return c.String(http.StatusOK, strconv.FormatInt(us, 10))
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	line, err := json.Marshal(target{Name: kind, URL: base + "/hello", CPUURL: base + "/_cpu", Headers: headers})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "%s\n", line); err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile) // #nosec G304 -- a path the operator gave
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// jwtauthMiddleware assembles jwtauth as an application would (memory
// backend, bigcache, encryption on, user from token, the given keys) and
// logs alice in from the load generator.
func jwtauthMiddleware(signKey, encKey []byte) (echo.MiddlewareFunc, string, func(), error) {
	cfg := jwtauth.DefaultConfig()
	cfg.SigningKey = signKey
	cfg.EncryptionKeys = []jwtauth.EncryptionKey{{ID: "k1", Secret: encKey}}
	cfg.UserFromToken = true
	be, stop, err := jwtauth.NewMemoryBackend(cfg)
	if err != nil {
		return nil, "", nil, err
	}
	svc, err := jwtauth.NewService[User](cfg, be, nil)
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	client := domain.ClientInfo{IP: netip.MustParseAddr("127.0.0.1"), DeviceID: "load-generator", DeviceName: "wrk"}
	pair, err := svc.Login(context.Background(), "alice", alice, client)
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	auth, err := echoauth.New(echoauth.Config[User]{Service: svc})
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	return auth.Middleware(), pair.AccessToken, stop, nil
}

func randomKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}
