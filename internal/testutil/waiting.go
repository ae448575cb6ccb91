package testutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

// ReadyAndWait is the end of a child function that sets something up for
// its parent to inspect (a filter, say): it tells the parent it is ready,
// then blocks until the parent closes its standard input.
func ReadyAndWait() error {
	fmt.Println("ready")
	_, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// StartWaitingChild starts the registered child name, which must end in
// ReadyAndWait, waits until it is ready and returns its pid. The child
// exits when the test ends.
func StartWaitingChild(t testing.TB, name string) int {
	t.Helper()
	cmd := Child(t, name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("child %s: read %q, %v", name, line, err)
	}
	return cmd.Process.Pid
}
