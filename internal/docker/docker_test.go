package docker_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/docker"
	"github.com/sysfence/sysfence/internal/dockertest"
)

func running(t *testing.T, name string) (docker.Container, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return docker.Running(ctx, name)
}

func TestRunning(t *testing.T) {
	c, err := dockertest.Start(t, nil, nil, dockertest.Sleep...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{c.ID, c.ID[:12]} {
		got, err := running(t, name)
		if err != nil {
			t.Fatalf("Running(%s): %v", name, err)
		}
		if got.Pid != c.PID || got.ID != c.ID {
			t.Errorf("Running(%s) = %+v, want pid %d id %s", name, got, c.PID, c.ID)
		}
	}
}

func TestRunningErrors(t *testing.T) {
	img := dockertest.EnsureImage(t)
	out, err := exec.Command("docker", "create", "--label", dockertest.Label, img, "/probe", "sleep").Output()
	if err != nil {
		t.Fatalf("docker create: %v", err)
	}
	created := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", created).Run() })

	for _, tc := range []struct {
		name string
		want []string
	}{
		// The engine's own message: its wording varies between versions.
		{"sysfence-test-no-such-container", []string{"container sysfence-test-no-such-container: ", "No such container"}},
		{created, []string{"container " + created + " is not running"}},
	} {
		_, err := running(t, tc.name)
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Running(%s) = %v, want an error with %q", tc.name, err, want)
			}
		}
	}
}

func TestNoCLI(t *testing.T) {
	old := docker.CLI
	docker.CLI = "sysfence-test-no-such-docker"
	t.Cleanup(func() { docker.CLI = old })
	_, err := running(t, "web")
	if err == nil || !strings.Contains(err.Error(), "container web: docker CLI not found") {
		t.Errorf("Running without a docker CLI = %v, want \"container web: docker CLI not found\"", err)
	}
}
