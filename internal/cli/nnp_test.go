package cli

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sysfence/sysfence/internal/testutil"
	"github.com/sysfence/sysfence/kernel"
)

func init() {
	// nnp-stays sets no_new_privs, then keeps the Go scheduler busy (new
	// OS threads blocked in sleeps, yields) and reports the first check at
	// which the calling goroutine found it unset.
	testutil.RegisterChild("nnp-stays", func([]string) error {
		if err := kernel.SetNoNewPrivs(); err != nil {
			return err
		}
		for round := range 200 {
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(50 * time.Microsecond)
				}()
			}
			runtime.Gosched()
			wg.Wait()
			if ok, err := kernel.NoNewPrivs(); err != nil || !ok {
				fmt.Printf("round %d: no_new_privs %v, %v\n", round, ok, err)
				return nil
			}
		}
		fmt.Println("kept")
		return nil
	})
}

// TestSetNoNewPrivsStaysWithCaller checks that the goroutine that called
// kernel.SetNoNewPrivs keeps no_new_privs wherever the scheduler would move
// it, in a binary linked like sysfence (cobra's pflag imports net, which
// links cgo, so prctl reaches only the calling thread): `run` sets it, then
// execs the command from the same goroutine.
func TestSetNoNewPrivsStaysWithCaller(t *testing.T) {
	testutil.RequireSeccomp(t)
	if got := string(testutil.RunChild(t, "nnp-stays", nil)); got != "kept\n" {
		t.Errorf("after SetNoNewPrivs: %s", got)
	}
}
