package cli

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

func probeDockerItems(ctx context.Context, env probeEnv) probeDocker {
	var d probeDocker
	components := map[string]string{}
	d.Engine = probeEngine(ctx, env, components)
	runcFix := "install runc (apt-get install runc), or Docker Engine which ships it"
	if v := components["runc"]; v != "" {
		d.Runc = item("runc", v+" (Docker Engine's)", nil)
	} else if _, err := exec.LookPath(env.runc); err != nil {
		d.Runc = probeItem{Name: "runc", Status: probeMissing, Value: env.runc + " not on PATH", Fix: runcFix}
	} else {
		out, err := runShort(ctx, env.timeout, env.runc, "--version")
		first, _, _ := strings.Cut(out, "\n")
		d.Runc = item("runc", strings.TrimPrefix(first, "runc version ")+" (on PATH)", err)
	}
	return d
}

// probeEngine asks the docker CLI for the client, server and component
// versions, filling components (such as "runc") from the server's answer.
func probeEngine(ctx context.Context, env probeEnv, components map[string]string) probeItem {
	if _, err := exec.LookPath(env.docker); err != nil {
		return probeItem{Name: "engine", Status: probeMissing, Value: env.docker + " not on PATH",
			Fix: "install Docker Engine: https://docs.docker.com/engine/install/"}
	}
	const format = "{{.Client.Version}}|{{.Server.Version}}|{{range .Server.Components}}{{.Name}}={{.Version}};{{end}}"
	out, err := runShort(ctx, env.timeout, env.docker, "version", "--format", format)
	fields := strings.SplitN(strings.TrimSpace(out), "|", 3)
	if err != nil || len(fields) < 3 || fields[1] == "" {
		value := "daemon unreachable"
		if err != nil {
			value += ": " + err.Error()
		}
		return probeItem{Name: "engine", Status: probeMissing, Value: value,
			Fix: "start the daemon (systemctl start docker) or set DOCKER_HOST"}
	}
	for _, c := range strings.Split(fields[2], ";") {
		if k, v, ok := strings.Cut(c, "="); ok {
			components[strings.ToLower(k)] = v
		}
	}
	return item("engine", "client "+fields[0]+", server "+fields[1], nil)
}

// runShort runs a command with a timeout and returns its standard output;
// its error carries the first line of standard error.
func runShort(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return stdout.String(), fmt.Errorf("run %s: no answer within %v", name, timeout)
		}
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return stdout.String(), fmt.Errorf("run %s: %w: %s", name, err, msg)
	}
	return stdout.String(), nil
}
