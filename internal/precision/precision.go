// Package precision chooses the float precision of the training step for the
// CPU present: float32, or bfloat16 through oneDNN and grappler's
// auto_mixed_precision_onednn_bfloat16 where the CPU has bf16 arithmetic.
package precision

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"

	"cyclegan/internal/tfrt"
)

// The values of a -precision flag.
const (
	Auto = "auto" // BF16 where the CPU supports it, else FP32
	FP32 = "fp32"
	BF16 = "bf16"
)

// BF16Flags are the /proc/cpuinfo flags that give oneDNN a native bf16
// path: AVX512-BF16 or AMX-BF16. Without either, bf16 would be emulated and
// slower than float32.
var BF16Flags = []string{"avx512_bf16", "amx_bf16"}

// CPUFlags returns the flags of the first processor in /proc/cpuinfo.
func CPUFlags() ([]string, error) { return cpuFlags("/proc/cpuinfo") }

func cpuFlags(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cpu flags: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "flags" {
			return strings.Fields(value), nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cpu flags: %s: %w", path, err)
	}
	return nil, fmt.Errorf("cpu flags: %s has no flags line", path)
}

// HasBF16 reports whether flags include one of BF16Flags.
func HasBF16(flags []string) bool {
	for _, f := range BF16Flags {
		if slices.Contains(flags, f) {
			return true
		}
	}
	return false
}

// Resolve turns a -precision value into FP32 or BF16 for a CPU with the
// given flags, in a process whose TensorFlow runs its oneDNN kernels or not
// (tfrt.OneDNNEnabled): Auto picks BF16 where the CPU supports it and oneDNN
// is on; BF16 on a CPU without support, or with oneDNN off, is an error that
// says why.
func Resolve(p string, flags []string, oneDNN bool) (string, error) {
	switch p {
	case FP32:
		return FP32, nil
	case Auto:
		if HasBF16(flags) && oneDNN {
			return BF16, nil
		}
		return FP32, nil
	case BF16:
		if !HasBF16(flags) {
			return "", fmt.Errorf("-precision bf16: this CPU has no bf16 arithmetic (none of the CPU flags %s); use -precision fp32 or auto",
				strings.Join(BF16Flags, ", "))
		}
		if !oneDNN {
			return "", fmt.Errorf("-precision bf16 needs TensorFlow's oneDNN kernels, which are off in this process (%s=%q)", tfrt.OneDNNEnv, os.Getenv(tfrt.OneDNNEnv))
		}
		return BF16, nil
	}
	return "", fmt.Errorf("-precision %q: want %s, %s or %s", p, Auto, FP32, BF16)
}
