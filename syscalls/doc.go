// Package syscalls maps system call names to numbers for every architecture
// libseccomp supports, and describes each architecture's ABI: audit-arch
// token, OCI and Docker names, argument width and byte order, the x32 bit and
// the socketcall/ipc multiplexers.
//
// The tables are generated from syscalls.csv (libseccomp's table) by
// internal/cmd/gensyscalls, so names resolve to numbers exactly as the
// libseccomp build behind runc does.
package syscalls

//go:generate go run ../internal/cmd/gensyscalls -in syscalls.csv -out tables_gen.go
