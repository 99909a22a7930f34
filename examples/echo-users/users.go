package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// AppUser is a row of app_users without its password hash. It is also
// jwtauth's user-claims type: the JSON fields travel in the access token's
// "usr" claim and come back as Principal.User.
type AppUser struct {
	ID    string `db:"id" json:"id"`
	Email string `db:"email" json:"email"`
	Role  string `db:"role" json:"role"`
}

// Users is the application's users table.
type Users struct {
	db    *sqlx.DB
	cost  int    // bcrypt cost
	dummy []byte // hash compared against for unknown emails
}

var _ ports.UserLoader[AppUser] = (*Users)(nil)

// errEmailTaken is returned by Create for an email already in the table.
var errEmailTaken = errors.New("email already registered")

// NewUsers creates the table if needed.
func NewUsers(ctx context.Context, db *sqlx.DB, cost int) (*Users, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS app_users (
		id text primary key, email text unique, password_hash text, role text)`); err != nil {
		return nil, fmt.Errorf("create app_users: %w", err)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("no such user"), cost)
	if err != nil {
		return nil, err
	}
	return &Users{db: db, cost: cost, dummy: dummy}, nil
}

// Create adds a user with a bcrypt hash of password (at most 72 bytes).
func (u *Users) Create(ctx context.Context, email, password, role string) (AppUser, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), u.cost)
	if err != nil {
		return AppUser{}, err
	}
	user := AppUser{ID: uuid.NewString(), Email: email, Role: role}
	res, err := u.db.ExecContext(ctx, `INSERT INTO app_users (id, email, password_hash, role)
		VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO NOTHING`, user.ID, email, string(hash), role)
	if err != nil {
		return AppUser{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return AppUser{}, errEmailTaken
	}
	return user, nil
}

// Check returns the user whose email and password match. An unknown email
// costs one bcrypt comparison too, so timing does not tell which emails
// exist.
func (u *Users) Check(ctx context.Context, email, password string) (AppUser, bool, error) {
	var row struct {
		AppUser
		PasswordHash string `db:"password_hash"`
	}
	err := u.db.GetContext(ctx, &row, `SELECT id, email, role, password_hash FROM app_users WHERE email = $1`, email)
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(u.dummy, []byte(password))
		return AppUser{}, false, nil
	}
	if err != nil {
		return AppUser{}, false, err
	}
	if bcrypt.CompareHashAndPassword([]byte(row.PasswordHash), []byte(password)) != nil {
		return AppUser{}, false, nil
	}
	return row.AppUser, true, nil
}

// SetRole changes a user's role; it reports false for an unknown id.
func (u *Users) SetRole(ctx context.Context, id, role string) (bool, error) {
	res, err := u.db.ExecContext(ctx, `UPDATE app_users SET role = $1 WHERE id = $2`, role, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// LoadUser implements ports.UserLoader: jwtauth calls it on every refresh
// (and on every request when JWTAUTH_USER_FROM_TOKEN is off), so a changed
// role reaches the next token. A deleted user's tokens stop working.
func (u *Users) LoadUser(ctx context.Context, id string) (AppUser, error) {
	var user AppUser
	err := u.db.GetContext(ctx, &user, `SELECT id, email, role FROM app_users WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return AppUser{}, domain.ErrRevoked
	}
	if err != nil {
		return AppUser{}, fmt.Errorf("%w: load user: %w", domain.ErrUnavailable, err)
	}
	return user, nil
}
