package kernel_test

import (
	"testing"

	"github.com/sysfence/sysfence/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }
