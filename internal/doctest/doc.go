// Package doctest checks the Go snippets of the documentation: every
// ```go block in README.md and in the docs files listed in doctest_test.go
// must be gofmt-formatted and is
// type-checked with go vet against the module as it is, from a temporary
// directory under this one whose name starts with "_" (so ./... never
// matches it) and which the test removes. It has no code of its own; run
// it with go test ./internal/doctest.
//
// A block must be a whole Go file, starting with its package clause, so
// that readers can copy it. Two HTML comments, on the last non-blank line
// before a fence, change that:
//
//   - <!-- doctest: continues --> makes the block another file of the
//     previous block's package (a program shown file by file);
//   - <!-- doctest: parse-only --> marks a sketch of code that does not
//     exist (the hypothetical adapter of "How to add an adapter"): it is
//     only parsed, as a file when it has a package clause and as
//     declarations otherwise.
package doctest
