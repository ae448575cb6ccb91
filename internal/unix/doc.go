// Package unix is sysfence's single door to golang.org/x/sys/unix: every
// system call, constant and type the rest of the project needs from the
// kernel is re-exported here, so that the dependency stays in one place and
// non-Linux builds compile against stubs that return ErrNotSupported.
package unix

import "errors"

// ErrNotSupported is returned by every function on systems other than Linux
// and by feature probes when the running kernel lacks the feature.
var ErrNotSupported = errors.New("not supported")
