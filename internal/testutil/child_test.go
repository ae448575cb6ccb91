package testutil

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	RegisterChild("echo", func(args []string) error {
		fmt.Println(strings.Join(args, " "))
		return nil
	})
	RegisterChild("fail", func([]string) error { return errors.New("on purpose") })
	Main(m)
}

func TestRunChild(t *testing.T) {
	got := RunChild(t, "echo", nil, "a", "b c")
	if string(got) != "a b c\n" {
		t.Errorf("child output %q, want %q", got, "a b c\n")
	}
}

func TestChildFailure(t *testing.T) {
	cmd := Child(t, "fail")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "on purpose") {
		t.Errorf("failing child: err %v, output %q", err, out)
	}
}

func TestChildUnknown(t *testing.T) {
	out, err := Child(t, "nope").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no child registered") {
		t.Errorf("unknown child: err %v, output %q", err, out)
	}
}

func TestChildArgs(t *testing.T) {
	tests := []struct {
		argv []string
		want []string
	}{
		{[]string{"bin", "-test.run=^$", "--", "x", "--", "y"}, []string{"x", "--", "y"}},
		{[]string{"bin"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			if got := childArgs(tt.argv); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("childArgs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnavailableSkipsOutsideCI(t *testing.T) {
	if InCI() {
		t.Skip("CI=true turns Unavailable into a failure")
	}
	t.Setenv("CI", "")
	ok := t.Run("gate", func(t *testing.T) { Unavailable(t, "missing thing") })
	if !ok {
		t.Error("Unavailable failed a test outside CI")
	}
}
