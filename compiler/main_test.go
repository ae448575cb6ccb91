package compiler_test

import (
	"testing"

	"github.com/sysfence/sysfence/internal/testutil"
)

// TestMain lets the kernel oracle re-execute this test binary as the child
// that installs filters: never the test process itself.
func TestMain(m *testing.M) { testutil.Main(m) }
