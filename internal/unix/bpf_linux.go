package unix

import "golang.org/x/sys/unix"

// BPF_F_MMAPABLE creates a BPF array that user space can mmap.
const BPF_F_MMAPABLE = unix.BPF_F_MMAPABLE
