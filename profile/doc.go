// Package profile reads, validates, writes and resolves seccomp profiles in
// Docker's JSON format, OCI's LinuxSeccomp form and the linux.seccomp section
// of an OCI config.json, and provides Docker's built-in default profile.
//
// Decode accepts all three forms. It reads the JSON into a generic tree
// (numbers kept as literals, so 64-bit values are exact) and walks it, so
// every problem is reported with its JSON path ("syscalls[3].args[1].index:
// must be < 6") and all of them are joined into one error. Keys Docker
// would ignore are not errors; DecodeWithWarnings returns them as warnings
// next to the Profile, which keeps Profile a plain value that Encode and
// Decode round-trip exactly.
//
// Resolve turns a Profile into the rule list that runc hands to libseccomp
// for one Target, applying Docker's archMap and includes/excludes (Flatten
// is that step alone) and runc's rule conversion; it knows nothing of BPF
// and never reads the host: the caller describes it in the Target.
//
// Default is Docker's own default profile, taken from the
// github.com/moby/profiles/seccomp module at build time.
package profile
