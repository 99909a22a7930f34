package jwtauth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jwtauth/jwtauth/adapters/jwe"
)

// keysFileName is the file in JWTAUTH_DATA_DIR that keeps the development
// keys generated on the first start.
const keysFileName = "keys.env"

// The key variables.
const (
	envSigningKey     = "JWTAUTH_SIGNING_KEY"
	envEncryptionKeys = "JWTAUTH_ENCRYPTION_KEYS"
)

// signingKeySize returns the size of a generated signing key: the HMAC
// output size of alg (RFC 7518 §3.2), at least 32 bytes.
func signingKeySize(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

// GenerateSigningKey returns a random base64 signing key of n bytes, the
// value of JWTAUTH_SIGNING_KEY.
func GenerateSigningKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return base64.StdEncoding.EncodeToString(b)
}

// GenerateEncryptionKeys returns a one-key ring, the value of
// JWTAUTH_ENCRYPTION_KEYS: "k<date>-<random>:<base64 32 bytes>". The key
// id starts with the day of now, for the operator, and ends with 48
// random bits, so two keys generated the same day never share an id and
// rotate (new key first, old one after it) without a duplicate key id.
func GenerateEncryptionKeys(now time.Time) string {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:]) // crypto/rand.Read never fails (Go 1.24+).
	id := "k" + now.UTC().Format("20060102") + "-" + hex.EncodeToString(suffix[:])
	return jwe.FormatKeys([]jwe.Key{jwe.GenerateKey(id)})
}

// DevKeys completes c, outside production, with the keys it lacks from
// the file keys.env in c.DataDir. With generate, keys the file lacks too
// are generated and saved there (directory 0700, file 0600) with a warning
// on log naming the file (nil log: slog.Default()); without, they stay
// missing. Keys set in c are never written to the file. In production it
// does nothing: there, missing keys stop start-up (RequireKeys). Errors
// wrap ErrConfig and name the variable or the file, never a key.
//
// OpenBackend calls it with generate, so a program embedding jwtauth
// starts in development the way 'jwtauth serve' does, with the same keys
// file.
func (c *Config) DevKeys(log *slog.Logger, generate bool) error {
	if c.Production() {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	if err := devKeys(c, log, generate); err != nil {
		return err
	}
	checkKeysFileMode(c.DataDir, log)
	return nil
}

func devKeys(cfg *Config, log *slog.Logger, generate bool) error {
	missingSigning := func() bool { return len(cfg.SigningKey) == 0 }
	missingEncryption := func() bool { return cfg.Encrypt && len(cfg.EncryptionKeys) == 0 }
	if !missingSigning() && !missingEncryption() {
		return nil
	}
	path := filepath.Join(cfg.DataDir, keysFileName)
	for range 2 {
		saved, existed, err := readKeysFile(path)
		if err != nil {
			return err
		}
		if err := applyKeys(cfg, saved, path); err != nil {
			return err
		}
		if !generate || (!missingSigning() && !missingEncryption()) {
			return nil
		}
		// Keys set in the environment are never copied into the file.
		if missingSigning() {
			saved[envSigningKey] = GenerateSigningKey(signingKeySize(cfg.SigningAlg))
		}
		if missingEncryption() {
			saved[envEncryptionKeys] = GenerateEncryptionKeys(time.Now())
		}
		err = writeKeysFile(path, saved, existed)
		if errors.Is(err, fs.ErrExist) {
			continue // another process created the file meanwhile: use its keys
		}
		if err != nil {
			return err
		}
		log.Warn("generated development keys; set JWTAUTH_SIGNING_KEY and JWTAUTH_ENCRYPTION_KEYS "+
			"(see 'jwtauth keygen') before production", "file", path)
		return applyKeys(cfg, saved, path)
	}
	return fmt.Errorf("%w: JWTAUTH_DATA_DIR: %s is being created concurrently without the keys", ErrConfig, path)
}

// applyKeys fills cfg's missing keys from the saved values.
func applyKeys(cfg *Config, saved map[string]string, path string) error {
	if len(cfg.SigningKey) == 0 && saved[envSigningKey] != "" {
		loaded, err := LoadConfig(func(name string) (string, bool) {
			if name == envSigningKey {
				return saved[envSigningKey], true
			}
			return "", false
		})
		if err != nil {
			return fmt.Errorf("%s in %s: %w", envSigningKey, path, err)
		}
		cfg.SigningKey = loaded.SigningKey
	}
	if cfg.Encrypt && len(cfg.EncryptionKeys) == 0 && saved[envEncryptionKeys] != "" {
		keys, err := ParseEncryptionKeys(saved[envEncryptionKeys])
		if err != nil {
			return fmt.Errorf("%w: %s in %s: %v", ErrConfig, envEncryptionKeys, path, err)
		}
		cfg.EncryptionKeys = keys
	}
	return nil
}

// readKeysFile reads the key variables of path's KEY=value lines, and
// whether the file exists; a missing file is empty.
func readKeysFile(path string) (map[string]string, bool, error) {
	out := map[string]string{}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's own JWTAUTH_DATA_DIR
	if errors.Is(err, fs.ErrNotExist) {
		return out, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: JWTAUTH_DATA_DIR: reading %s: %w", ErrConfig, path, pathErr(err))
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		name = strings.TrimSpace(strings.TrimPrefix(name, "export "))
		if name == envSigningKey || name == envEncryptionKeys {
			out[name] = strings.Trim(strings.TrimSpace(value), `"'`)
		}
	}
	return out, true, nil
}

// writeKeysFile saves the key variables to path with mode 0600, creating
// its directory with mode 0700. The file appears complete or not at all: it
// is written beside path and then, when it did not exist (replace false),
// linked into place — an error wrapping fs.ErrExist when another process
// created it meanwhile — or else renamed over the file that lacked a key.
func writeKeysFile(path string, vals map[string]string, replace bool) error {
	var b strings.Builder
	b.WriteString("# Development keys generated by jwtauth ('jwtauth serve' or OpenBackend). Keep this file secret.\n")
	b.WriteString("# In production set these variables from your secret store instead.\n")
	for _, name := range []string{envSigningKey, envEncryptionKeys} {
		if v := vals[name]; v != "" {
			fmt.Fprintf(&b, "%s=%s\n", name, v)
		}
	}
	dir := filepath.Dir(path)
	if err := MakeDataDir(dir); err != nil {
		return err
	}
	fail := func(err error) error {
		return fmt.Errorf("%w: JWTAUTH_DATA_DIR: saving %s: %w", ErrConfig, path, pathErr(err))
	}
	tmp, err := os.CreateTemp(dir, keysFileName+".*") // mode 0600
	if err != nil {
		return fail(err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, err = tmp.WriteString(b.String())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	if !replace {
		err := os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		if err != nil {
			return fail(err)
		}
		return nil
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}

// pathErr drops the *fs.PathError wrapper's path (the callers name it).
func pathErr(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// checkKeysFileMode warns when the keys file is readable by others.
func checkKeysFileMode(dataDir string, log *slog.Logger) {
	path := filepath.Join(dataDir, keysFileName)
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the keys file is readable by other users; chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
}
