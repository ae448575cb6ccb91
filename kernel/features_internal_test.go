package kernel

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestMountsOfType(t *testing.T) {
	table := "proc /proc proc rw 0 0\n" +
		"tracefs /sys/kernel/tracing tracefs rw 0 0\n" +
		"none /mnt/with\\040space tracefs rw 0 0\n" +
		"short line\n"
	got := mountsOfType(table, "tracefs")
	want := []string{"/sys/kernel/tracing", "/mnt/with space"}
	if !slices.Equal(got, want) {
		t.Errorf("mountsOfType = %q, want %q", got, want)
	}
}

func TestCapsFrom(t *testing.T) {
	tests := []struct {
		name, status string
		want         uint64
		wantErr      bool
	}{
		{"root", "Name:\tx\nCapEff:\t000001ffffffffff\n", 0x1ffffffffff, false},
		{"none", "CapEff:\t0000000000000000\n", 0, false},
		{"missing", "Name:\tx\n", 0, true},
		{"garbage", "CapEff:\tzz\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "status")
			if err := os.WriteFile(path, []byte(tt.status), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := capsFrom(path)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("capsFrom = %#x, %v; want %#x, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
