// Package libseccomptest builds, for tests and benchmarks only, the filters
// that libseccomp and runc produce for a resolved profile, so sysfence's
// compiler can be compared with them side by side.
//
// The libseccomp part needs cgo and Debian's libseccomp-dev and is compiled
// only with the build tag `libseccomp`:
//
//	go test -tags libseccomp ./compiler -run TestLayoutComparison -v
//
// Without the tag the package holds only Stub, runc's ENOSYS stub, which is
// pure Go. The product never imports this package: sysfence itself runs
// without libseccomp.
package libseccomptest
