package main

import (
	"github.com/labstack/echo/v4"

	"github.com/jwtauth/jwtauth/cmd/jwtauth/page"
)

// mountBrowser adds the browser side of the reference server: the browser
// route group (with the same login handler as POST /auth/login), the
// cross-origin check on every cookie-carrying unsafe request, and the
// account page at GET /.
func (s *server) mountBrowser(e *echo.Echo) {
	e.Use(s.auth.CrossOrigin())
	s.auth.MountBrowser(e, s.login)
	h := echo.WrapHandler(page.Handler())
	for _, p := range page.Paths {
		e.GET(p, h)
	}
}
