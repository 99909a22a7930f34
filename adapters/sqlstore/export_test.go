package sqlstore

import "path"

// MigrationSQL returns an embedded migration file of a dialect ("postgres"
// or "sqlite"), for tests that build an old schema by hand.
func MigrationSQL(dialectName, file string) string {
	b, err := migrationFiles.ReadFile(path.Join("migrations", dialectName, file))
	if err != nil {
		panic(err)
	}
	return string(b)
}
