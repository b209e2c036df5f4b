package cyclegan

import (
	"fmt"
	"os"
	"testing"

	"cyclegan/internal/tfrt"
)

func TestMain(m *testing.M) {
	// The kernels the training program runs (tfrt.DefaultRuntime).
	if err := tfrt.DefaultRuntime(false, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
