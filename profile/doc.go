// Package profile reads, validates, writes and resolves seccomp profiles in
// Docker's JSON format, OCI's LinuxSeccomp form and the linux.seccomp section
// of an OCI config.json, and provides Docker's built-in default profile.
//
// Resolve turns a Profile into the rule list that runc hands to libseccomp
// for one Target, applying Docker's archMap and includes/excludes and runc's
// rule conversion; it knows nothing of BPF.
package profile
