package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/testutil"
)

// probePackage is the import path of the probe command.
const probePackage = "github.com/sysfence/sysfence/internal/dockertest/probe"

// imageRepo is the repository of the image; its tag is a hash of the content.
const imageRepo = "sysfence-probe"

var image struct {
	once sync.Once
	tag  string
	err  error
}

// Available skips t (or fails it when CI=true) unless Docker runs and this
// process may read containers' filters: root, and no seccomp filter itself.
func Available(t testing.TB) {
	t.Helper()
	testutil.RequireDocker(t)
	testutil.RequireFilterDump(t)
}

// EnsureImage returns the tag of the probe image, building it on first use
// in this test binary. The tag is a hash of the image's files, so an image
// left by an earlier run with the same content is reused, and images are
// built offline with `docker import`: no registry, no base image.
func EnsureImage(t testing.TB) string {
	t.Helper()
	Available(t)
	image.once.Do(func() { image.tag, image.err = buildImage() })
	if image.err != nil {
		t.Fatalf("build probe image: %v", image.err)
	}
	return image.tag
}

func buildImage() (string, error) {
	probe, err := buildProbe()
	if err != nil {
		return "", err
	}
	spin, err := nativeSpin()
	if err != nil {
		return "", err
	}
	layer, err := imageTar(map[string][]byte{"probe": probe, "spin": spin})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(layer)
	tag := imageRepo + ":" + hex.EncodeToString(sum[:8])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := docker(ctx, nil, "image", "inspect", tag); err == nil {
		return tag, nil
	}
	if _, err := docker(ctx, layer, "import", "--change", `CMD ["/probe", "sleep"]`, "-", tag); err != nil {
		return "", err
	}
	return tag, nil
}

// buildProbe compiles the probe command as a static binary.
func buildProbe() ([]byte, error) {
	dir, err := os.MkdirTemp("", "sysfence-probe-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "probe")
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("build probe: %w", err)
	}
	cmd := exec.Command(gocmd, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, probePackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", probePackage, err, msg)
	}
	return os.ReadFile(out)
}

// imageTar returns a reproducible tar of executables at the image's root.
func imageTar(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	// Sorted, with fixed times and owners, so the hash names the content.
	sort.Strings(names)
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o755, Size: int64(len(files[n])), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := w.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// docker runs the docker client and returns its standard output; the error
// carries its standard error.
func docker(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
