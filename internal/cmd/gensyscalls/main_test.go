package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedTablesFresh checks that syscalls/tables_gen.go is what the
// generator makes from the committed syscalls.csv, byte for byte: run
// `go generate ./syscalls` after editing the CSV.
func TestGeneratedTablesFresh(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "syscalls")
	f, err := os.Open(filepath.Join(dir, "syscalls.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := parse(f)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	got, err := render(tab)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "tables_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("syscalls/tables_gen.go is stale (%d bytes, generator gives %d): run go generate ./syscalls", len(want), len(got))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, csv, want string
	}{
		{"empty", "", "no rows"},
		{"header only", "#syscall (v1),x86,x86_kver\n", "no rows"},
		{"bad number", "#syscall (v1),x86,x86_kver\nread,three,SCMP_KV_UNDEF\n", "row read column x86"},
		{"short row", "#syscall (v1),x86,x86_kver,arm,arm_kver\nread,3,SCMP_KV_UNDEF,3,SCMP_KV_UNDEF\nwrite,4\n", "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parse: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseSmall(t *testing.T) {
	src := "#syscall (v9.9),x86,x86_kver,x86_64,x86_64_kver\n" +
		"write,4,SCMP_KV_UNDEF,1,SCMP_KV_UNDEF\n" +
		"read,3,SCMP_KV_UNDEF,0,SCMP_KV_UNDEF\n" +
		"socketcall,102,SCMP_KV_UNDEF,PNR,SCMP_KV_UNDEF\n"
	tab, err := parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if tab.version != "v9.9" {
		t.Errorf("version = %q, want v9.9", tab.version)
	}
	if strings.Join(tab.names, ",") != "read,socketcall,write" {
		t.Errorf("names = %v, want sorted read,socketcall,write", tab.names)
	}
	if strings.Join(tab.columns, ",") != "x86,x86_64" {
		t.Errorf("columns = %v, want x86,x86_64 (no _kver)", tab.columns)
	}
	want := map[string][]int32{"x86": {3, 102, 4}, "x86_64": {0, -1, 1}}
	for c, nums := range want {
		got := tab.numbers[c]
		if len(got) != len(nums) {
			t.Fatalf("column %s = %v, want %v", c, got, nums)
		}
		for i := range nums {
			if got[i] != nums[i] {
				t.Errorf("column %s = %v, want %v", c, got, nums)
				break
			}
		}
	}
	if _, err := render(tab); err != nil {
		t.Errorf("render: %v", err)
	}
}
