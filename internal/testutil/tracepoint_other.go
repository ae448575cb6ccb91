//go:build !linux

package testutil

import "testing"

// AttachEmptySysEnter skips: tracepoints are Linux's.
func AttachEmptySysEnter(tb testing.TB) (detach func()) {
	tb.Skip("the sys_enter tracepoint needs Linux")
	return func() {}
}
