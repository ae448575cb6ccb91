//go:build !linux

package unix

// AllowedCPUs returns ErrNotSupported.
func AllowedCPUs() ([]int, error) { return nil, ErrNotSupported }

// PinToCPU returns ErrNotSupported.
func PinToCPU(cpu int) error { return ErrNotSupported }
