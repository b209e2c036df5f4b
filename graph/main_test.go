package graph

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"cyclegan/internal/tfrt"
)

// helperEnv, when set, makes the test binary act as a child process of a
// test instead of running the tests: "restore" restores the latest
// checkpoint of GRAPH_HELPER_CKPT and writes a snapshot to GRAPH_HELPER_OUT;
// "checkpoint-loop" trains and checkpoints into GRAPH_HELPER_CKPT until
// killed.
const helperEnv = "GRAPH_TEST_HELPER"

func TestMain(m *testing.M) {
	// The kernels the training program runs (tfrt.DefaultRuntime).
	if err := tfrt.DefaultRuntime(false, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch mode := os.Getenv(helperEnv); mode {
	case "":
		os.Exit(m.Run())
	case "restore":
		helperRestore(procTB{})
	case "checkpoint-loop":
		helperCheckpointLoop(procTB{})
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", helperEnv, mode)
		os.Exit(2)
	}
	os.Exit(0)
}

// procTB lets the test helpers run in a child process: a failure ends the
// process with status 1.
type procTB struct{ testing.TB }

func (procTB) Helper()        {}
func (procTB) Cleanup(func()) {}
func (procTB) Fatal(a ...any) { fmt.Fprintln(os.Stderr, a...); os.Exit(1) }
func (procTB) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(1)
}

func helperRestore(t testing.TB) {
	m := newModel(t, os.Getenv("GRAPH_HELPER_CKPT"))
	latest, err := m.ckpt.Latest()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ckpt.Restore(m.sess, latest); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(m.snapshot(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv("GRAPH_HELPER_OUT"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func helperCheckpointLoop(t testing.TB) {
	m := newModel(t, os.Getenv("GRAPH_HELPER_CKPT"))
	for i := 0; ; i++ {
		m.step(t, int64(i))
		if _, err := m.ckpt.Save(m.sess, fmt.Sprintf("step-%d-%d", os.Getpid(), i), nil); err != nil {
			t.Fatal(err)
		}
		if err := m.ckpt.Prune(func(string) bool { return false }); err != nil {
			t.Fatal(err)
		}
	}
}
