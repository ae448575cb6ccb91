package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// UpdateGoldenEnv names the environment variable that, set to 1, makes
// Golden rewrite golden files instead of comparing with them.
const UpdateGoldenEnv = "SYSFENCE_UPDATE_GOLDEN"

// Golden compares got with the file testdata/name of the package under
// test, or rewrites that file when SYSFENCE_UPDATE_GOLDEN=1.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv(UpdateGoldenEnv) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (%s=1 creates it): %v", UpdateGoldenEnv, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (%s=1 updates it)\ngot:\n%s\nwant:\n%s", path, UpdateGoldenEnv, got, want)
	}
}
