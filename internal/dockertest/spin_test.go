package dockertest

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestSpinELF(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			b, err := spinELF(arch)
			if err != nil {
				t.Fatal(err)
			}
			f, err := elf.NewFile(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("not an ELF file: %v", err)
			}
			if f.Type != elf.ET_EXEC || len(f.Progs) != 1 || f.Entry != spinBase+120 {
				t.Errorf("type %v, %d program headers, entry %#x", f.Type, len(f.Progs), f.Entry)
			}
		})
	}
	if _, err := spinELF("mips"); err == nil {
		t.Error("spinELF(mips) succeeded")
	}
}

// TestSpinRuns executes the spin program: it must start and keep running.
func TestSpinRuns(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("spin is a Linux amd64/arm64 executable")
	}
	b, err := nativeSpin()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "spin")
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("spin exited: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	_ = cmd.Process.Kill()
	<-done
}
