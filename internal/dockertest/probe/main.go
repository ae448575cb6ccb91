// Command probe is the only program in sysfence's Docker test image, built
// static (CGO_ENABLED=0) into an image FROM scratch:
//
//	probe sleep                  block until killed or sent SIGTERM/SIGINT
//	probe syscall NR [A0 … A5]   make one raw system call and print
//	                             "ret=R errno=E" (E is 0 on success)
//
// Numbers are decimal or 0x hex; NR may be negative.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/sysfence/sysfence/internal/unix"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: probe sleep | probe syscall NR [A0 … A5]")
	}
	switch args[0] {
	case "sleep":
		// As PID 1 of a container the process gets no default signal
		// handling, so it must catch SIGTERM to stop on `docker stop`.
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		return nil
	case "syscall":
		return rawSyscall(args[1:])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func rawSyscall(args []string) error {
	if len(args) < 1 || len(args) > 7 {
		return errors.New("usage: probe syscall NR [A0 … A5]")
	}
	var v [7]uintptr
	for i, a := range args {
		n, err := parse(a)
		if err != nil {
			return fmt.Errorf("argument %d: %w", i, err)
		}
		v[i] = n
	}
	r, _, errno := unix.RawSyscall6(v[0], v[1], v[2], v[3], v[4], v[5], v[6])
	_, err := fmt.Printf("ret=%d errno=%d\n", int64(r), uintptr(errno))
	return err
}

// parse reads a decimal or 0x hex number, negative ones as two's complement.
func parse(s string) (uintptr, error) {
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return uintptr(n), nil
	}
	n, err := strconv.ParseUint(s, 0, 64)
	return uintptr(n), err
}
