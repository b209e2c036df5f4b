package precision

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cyclegan/internal/tfrt"
)

func TestAutoPicksBF16OnlyWhereTheCPUHasIt(t *testing.T) {
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"avx2", "fma"}, FP32},
		{[]string{"avx512f", "avx512_bf16"}, BF16},
		{[]string{"amx_tile", "amx_bf16"}, BF16},
		{nil, FP32},
	} {
		got, err := Resolve(Auto, c.flags, true)
		if err != nil || got != c.want {
			t.Errorf("Resolve(auto, %v) = %q, %v; want %q", c.flags, got, err, c.want)
		}
	}
}

func TestBF16IsRefusedNamingTheMissingFlags(t *testing.T) {
	_, err := Resolve(BF16, []string{"avx2", "fma", "avx512f"}, true)
	if err == nil {
		t.Fatal("bf16 accepted on a CPU without avx512_bf16 or amx_bf16")
	}
	for _, f := range BF16Flags {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not name %s", err, f)
		}
	}
	if got, err := Resolve(BF16, []string{"avx512_bf16"}, true); err != nil || got != BF16 {
		t.Errorf("bf16 on an avx512_bf16 CPU: %q, %v", got, err)
	}
	if got, err := Resolve(FP32, []string{"avx512_bf16"}, true); err != nil || got != FP32 {
		t.Errorf("fp32 asked for on a bf16 CPU: %q, %v", got, err)
	}
	if _, err := Resolve("fp16", nil, true); err == nil {
		t.Error("an unknown precision was accepted")
	}
}

func TestOneDNNTurnedOffMeansFP32ForAutoAndARefusalForBF16(t *testing.T) {
	bf16CPU := []string{"avx512_bf16"}
	if got, err := Resolve(Auto, bf16CPU, false); err != nil || got != FP32 {
		t.Errorf("auto with oneDNN off: %q, %v; want fp32", got, err)
	}
	if got, err := Resolve(Auto, bf16CPU, true); err != nil || got != BF16 {
		t.Errorf("auto with oneDNN on: %q, %v; want bf16", got, err)
	}
	if _, err := Resolve(BF16, bf16CPU, false); err == nil || !strings.Contains(err.Error(), tfrt.OneDNNEnv) {
		t.Errorf("bf16 with oneDNN off: %v; want a refusal naming %s", err, tfrt.OneDNNEnv)
	}
}

func TestCPUFlagsReadsTheFlagsLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpuinfo")
	os.WriteFile(p, []byte("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n\nprocessor\t: 1\n"), 0o644)
	flags, err := cpuFlags(p)
	if err != nil {
		t.Fatal(err)
	}
	if !HasBF16(flags) || len(flags) != 4 {
		t.Errorf("flags %v", flags)
	}
	os.WriteFile(p, []byte("processor\t: 0\n"), 0o644)
	if _, err := cpuFlags(p); err == nil {
		t.Error("a cpuinfo without flags gave no error")
	}
}
