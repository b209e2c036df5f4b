package cyclegan

import (
	"fmt"
	"os"
	"testing"

	"cyclegan/internal/tfrt"
)

func TestMain(m *testing.M) {
	// The kernels the training program runs (tfrt.DefaultOneDNN).
	if err := tfrt.DefaultOneDNN(false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
