package tfrt

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test binary re-runs itself as a child whose only job is to print what
// DefaultOneDNN left it with, so the variable is read at the child's load.
const childEnv = "CYCLEGAN_TFRT_ONEDNN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := DefaultOneDNN(); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		child := "unset"
		for _, kv := range ChildEnv() {
			if v, ok := strings.CutPrefix(kv, OneDNNEnv+"="); ok {
				child = v
			}
		}
		os.Stdout.WriteString("env=" + os.Getenv(OneDNNEnv) + " enabled=" + map[bool]string{true: "true", false: "false"}[OneDNNEnabled()] + " child=" + child + "\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A child's environment (ChildEnv) keeps what the user set and drops what
// DefaultOneDNN set, so that the child picks its own default.
func TestDefaultOneDNNTurnsTheKernelsOnUnlessTheEnvironmentSaysOtherwise(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string // added to the child's environment
		want string
	}{
		{"unset: re-executed with the kernels on", nil, "env=1 enabled=true child=unset"},
		{"0: left off", []string{OneDNNEnv + "=0"}, "env=0 enabled=false child=0"},
		{"1: on without re-executing", []string{OneDNNEnv + "=1"}, "env=1 enabled=true child=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, OneDNNEnv+"=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(append(cmd.Env, childEnv+"=1"), tc.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if got := lastLine(string(out)); got != tc.want {
				t.Errorf("child reported %q, want %q (output:\n%s)", got, tc.want, out)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
