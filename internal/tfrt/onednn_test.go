package tfrt

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test binary re-runs itself as a child whose only job is to print what
// DefaultRuntime left it with, so the variables are read at the child's load.
const childEnv = "CYCLEGAN_TFRT_ONEDNN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		mode := os.Getenv(childEnv)
		arenas := 0
		if mode == "arenas" {
			arenas = 1
		}
		if err := DefaultRuntime(mode == "frozen", arenas); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		child := func(name string) string {
			for _, kv := range ChildEnv() {
				if v, ok := strings.CutPrefix(kv, name+"="); ok {
					return v
				}
			}
			return "unset"
		}
		os.Stdout.WriteString("env=" + os.Getenv(OneDNNEnv) + " frozen=" + os.Getenv(FrozenWeightsEnv) +
			" enabled=" + map[bool]string{true: "true", false: "false"}[OneDNNEnabled()] +
			" child=" + child(OneDNNEnv) + " child_frozen=" + child(FrozenWeightsEnv) +
			" arenas=" + os.Getenv(MallocArenasEnv) + " child_arenas=" + child(MallocArenasEnv) + "\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A child's environment (ChildEnv) keeps what the user set and drops what
// DefaultRuntime set, so that the child picks its own defaults.
func TestDefaultRuntimeSetsWhatTheEnvironmentLeavesUnset(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode string   // "frozen": DefaultRuntime(true, 0); "arenas": DefaultRuntime(false, 1)
		env  []string // added to the child's environment
		want string
	}{
		{"unset: re-executed with the kernels on", "1", nil, "env=1 frozen= enabled=true child=unset child_frozen=unset arenas= child_arenas=unset"},
		{"0: left off", "1", []string{OneDNNEnv + "=0"}, "env=0 frozen= enabled=false child=0 child_frozen=unset arenas= child_arenas=unset"},
		{"1: on without re-executing", "1", []string{OneDNNEnv + "=1"}, "env=1 frozen= enabled=true child=1 child_frozen=unset arenas= child_arenas=unset"},
		{"unset, frozen weights: both set", "frozen", nil, "env=1 frozen=1 enabled=true child=unset child_frozen=unset arenas= child_arenas=unset"},
		{"unset, frozen weights set to 0 by the user: kept", "frozen", []string{FrozenWeightsEnv + "=0"}, "env=1 frozen=0 enabled=true child=unset child_frozen=0 arenas= child_arenas=unset"},
		{"0, frozen weights: left alone", "frozen", []string{OneDNNEnv + "=0"}, "env=0 frozen= enabled=false child=0 child_frozen=unset arenas= child_arenas=unset"},
		{"unset, one arena: both set", "arenas", nil, "env=1 frozen= enabled=true child=unset child_frozen=unset arenas=1 child_arenas=unset"},
		{"0, one arena: the cap alone is set", "arenas", []string{OneDNNEnv + "=0"}, "env=0 frozen= enabled=false child=0 child_frozen=unset arenas=1 child_arenas=unset"},
		{"one arena, the user's 4 arenas: kept", "arenas", []string{MallocArenasEnv + "=4"}, "env=1 frozen= enabled=true child=unset child_frozen=unset arenas=4 child_arenas=4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(append(EnvWithout(OneDNNEnv, FrozenWeightsEnv, MallocArenasEnv), childEnv+"="+tc.mode), tc.env...)
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
