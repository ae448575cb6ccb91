//go:build !linux

package unix

// BPF_F_MMAPABLE has Linux's value; nothing uses it elsewhere.
const BPF_F_MMAPABLE = 0x400
