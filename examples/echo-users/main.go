package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/echoauth"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

// run serves the application on JWTAUTH_ADDR until ctx ends.
func run(ctx context.Context) error {
	cfg, err := jwtauth.LoadConfig(nil) // JWTAUTH_* from the environment
	if err != nil {
		return err // names the variable, never a key
	}
	s, cleanup, err := newServer(ctx, cfg)
	if err != nil {
		return err
	}
	defer cleanup()

	// Seed the first admin; an email already in the table is left alone.
	_, err = s.users.Create(ctx, getenv("ADMIN_EMAIL", "admin@example.com"), getenv("ADMIN_PASSWORD", "admin-password"), "admin")
	if err != nil && !errors.Is(err, errEmailTaken) {
		return err
	}

	e := s.routes()
	go func() {
		<-ctx.Done()
		_ = e.Shutdown(context.WithoutCancel(ctx))
	}()
	log.Printf("listening on http://%s", cfg.Addr)
	if err := e.Start(cfg.Addr); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// server is the application: its users table, and jwtauth's service and
// Echo adapter for the user-claims type AppUser.
type server struct {
	users *Users
	svc   *app.Service[AppUser]
	auth  *echoauth.Auth[AppUser]
}

// newServer opens jwtauth's backend (PostgreSQL, migrated) and the users
// table in the same database. cleanup closes both.
func newServer(ctx context.Context, cfg jwtauth.Config) (s *server, cleanup func(), err error) {
	if !jwtauth.IsPostgresURL(cfg.DatabaseURL) {
		return nil, nil, errors.New("JWTAUTH_DATABASE_URL must be a postgres:// URL")
	}
	// The role travels in the access token (d_jwt_auth's
	// GET_USER_BY_ACCESS_TOKEN): requests read no table, so a role change
	// must revoke the access tokens (see setRole).
	cfg.UserFromToken = true
	backend, closeBackend, err := jwtauth.OpenBackend(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			closeBackend()
		}
	}()

	cost := bcrypt.DefaultCost
	if cfg.Env == "test" {
		cost = bcrypt.MinCost // fast test suites
	}
	s = &server{}
	if s.users, err = NewUsers(ctx, backend.DB, cost); err != nil {
		return nil, nil, err
	}
	if s.svc, err = jwtauth.NewService[AppUser](cfg, backend, s.users); err != nil {
		return nil, nil, err
	}
	dpopValidator, err := cfg.DPoPValidator() // JWTAUTH_DPOP; nil when off
	if err != nil {
		return nil, nil, err
	}
	s.auth, err = echoauth.New(echoauth.Config[AppUser]{
		Service:        s.svc,
		TrustedProxies: cfg.TrustedProxies,
		DeviceHeader:   cfg.DeviceHeader,
		DPoP:           dpopValidator,
		DPoPRequired:   cfg.DPoP == jwtauth.DPoPRequired,
	})
	if err != nil {
		return nil, nil, err
	}
	return s, closeBackend, nil
}

// routes returns the application's Echo instance.
func (s *server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.Server.ReadHeaderTimeout = 5 * time.Second

	s.auth.Mount(e.Group("/auth")) // refresh, verify, logout[/all|/others], sessions
	e.POST("/signup", s.signup)
	e.POST("/login", s.login)
	e.GET("/profile", s.profile, s.auth.Middleware())
	e.PUT("/users/:id/role", s.setRole, s.auth.Middleware(), adminOnly)
	return e
}

// credentials is the body of POST /signup and POST /login.
type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// signup serves POST /signup: 201 with the new user, role "user".
func (s *server) signup(c echo.Context) error {
	var req credentials
	if err := echoauth.DecodeJSON(c, &req); err != nil {
		return s.auth.Error(c, err) // 400, 413
	}
	if !strings.Contains(req.Email, "@") || len(req.Email) > 254 || len(req.Password) < 8 || len(req.Password) > 72 {
		return s.auth.Error(c, domain.ErrInvalidArgument) // 400 invalid_request
	}
	user, err := s.users.Create(c.Request().Context(), req.Email, req.Password, "user")
	if errors.Is(err, errEmailTaken) {
		return fail(c, http.StatusConflict, "email_taken", "the email is already registered")
	}
	if err != nil {
		return s.auth.Error(c, fmt.Errorf("%w: %w", domain.ErrUnavailable, err)) // 503
	}
	return c.JSON(http.StatusCreated, user)
}

// login serves POST /login: the application checks the password against
// its own table, then jwtauth issues the tokens. (Real services also
// throttle failed logins here.)
func (s *server) login(c echo.Context) error {
	var req credentials
	if err := echoauth.DecodeJSON(c, &req); err != nil {
		return s.auth.Error(c, err)
	}
	user, ok, err := s.users.Check(c.Request().Context(), req.Email, req.Password)
	if err != nil {
		return s.auth.Error(c, fmt.Errorf("%w: %w", domain.ErrUnavailable, err))
	}
	if !ok {
		return s.auth.Error(c, domain.ErrInvalidCredentials) // 401
	}
	return s.auth.Login(c, user.ID, user) // 200 {"access_token","refresh_token",...}
}

// profile serves GET /profile: the user as the access token carries it.
func (s *server) profile(c echo.Context) error {
	p, _ := echoauth.Principal[AppUser](c)
	return c.JSON(http.StatusOK, p.User)
}

// adminOnly lets only principals with role "admin" through; it runs after
// jwtauth's Middleware.
func adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p, _ := echoauth.Principal[AppUser](c); p.User.Role != "admin" {
			return fail(c, http.StatusForbidden, "forbidden", "admins only")
		}
		return next(c)
	}
}

// setRole serves PUT /users/:id/role {"role"}: 204, 400, 404.
func (s *server) setRole(c echo.Context) error {
	var req struct {
		Role string `json:"role"`
	}
	if err := echoauth.DecodeJSON(c, &req); err != nil {
		return s.auth.Error(c, err)
	}
	if req.Role != "admin" && req.Role != "user" {
		return s.auth.Error(c, domain.ErrInvalidArgument)
	}
	ctx, id := c.Request().Context(), c.Param("id")
	found, err := s.users.SetRole(ctx, id, req.Role)
	if err != nil {
		return s.auth.Error(c, fmt.Errorf("%w: %w", domain.ErrUnavailable, err))
	}
	if !found {
		return fail(c, http.StatusNotFound, "not_found", "no such user")
	}
	// d_jwt_auth's update_user_auth_uuid: every access token of the user,
	// on every device, now gets 401 token_revoked. The clients refresh, and
	// the refresh loads the new role through Users.LoadUser. Nobody is
	// logged out. (Should this fail, the answer is 503: retry it.)
	if err := s.svc.Invalidate(ctx, id, domain.Access); err != nil {
		return s.auth.Error(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// fail writes the application's own errors in jwtauth's shape.
func fail(c echo.Context, status int, code, description string) error {
	return c.JSON(status, map[string]string{"error": code, "error_description": description})
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
