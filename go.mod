module github.com/sysfence/sysfence

go 1.26.8

require github.com/spf13/cobra v1.10.2

require github.com/cilium/ebpf v0.22.0

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/moby/profiles/seccomp v0.3.0
	github.com/opencontainers/runtime-spec v1.2.1 // indirect
	github.com/spf13/pflag v1.0.10 // indirect
	golang.org/x/sys v0.50.0
)
