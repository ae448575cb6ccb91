//go:build !linux

package profile

import "fmt"

// mobyDefaultJSON fails: github.com/moby/profiles/seccomp defines its
// default profile on Linux only.
func mobyDefaultJSON() ([]byte, error) {
	return nil, fmt.Errorf("moby's default profile is defined on Linux only: %w", ErrNotSupported)
}
