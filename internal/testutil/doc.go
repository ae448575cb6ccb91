// Package testutil holds helpers shared by sysfence's tests: re-executing
// the test binary as a child process (so that no test ever installs a
// seccomp filter in its own process), gates that skip a test when root,
// Docker or a kernel feature is missing (and fail it instead when CI=true),
// and golden files.
//
// It imports no sysfence package but internal/unix, so that any package's
// tests, internal or external, can use it without an import cycle.
package testutil
