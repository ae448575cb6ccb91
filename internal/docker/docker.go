// Package docker finds running Docker containers through the docker CLI,
// the one client every Docker installation has.
package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// CLI is the docker client run.
var CLI = "docker"

// Container is what sysfence needs of a running container.
type Container struct {
	Pid int    // its main process, as the host sees it
	ID  string // its full id
}

// Running inspects a running container by name or id. Its errors name the
// container and say what went wrong: no docker CLI, the engine's own
// message (no such container, daemon not running), or not running.
func Running(ctx context.Context, name string) (Container, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, CLI, "inspect", "--type", "container",
		"--format", "{{.State.Running}} {{.State.Pid}} {{.Id}}", name)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return Container{}, fmt.Errorf("container %s: docker CLI not found: %w", name, err)
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return Container{}, fmt.Errorf("container %s: %s", name, msg)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return Container{}, fmt.Errorf("container %s: unexpected docker inspect output %q", name, out)
	}
	if f[0] != "true" {
		return Container{}, fmt.Errorf("container %s is not running", name)
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 {
		return Container{}, fmt.Errorf("container %s: docker reported pid %q", name, f[1])
	}
	return Container{Pid: pid, ID: f[2]}, nil
}
