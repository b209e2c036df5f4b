package main

import (
	"bytes"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
)

// freeAddr returns a loopback host:port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startTask runs task of a two-task cluster as another process (this test
// binary running the training program with -serve-task); it is killed when
// the test ends.
func startTask(t *testing.T, cluster string, task string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=train",
		"TRAINING_ARGS="+strings.Join([]string{"-cluster", cluster, "-task", task, "-serve-task"}, "\n"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// twoTaskCluster starts task 1 in its own process and returns the -cluster
// spec; the test process is task 0, the chief.
func twoTaskCluster(t *testing.T) (string, *exec.Cmd) {
	cluster := "worker=" + freeAddr(t) + "," + freeAddr(t)
	return cluster, startTask(t, cluster, "1")
}

// checkpointValues restores out's latest checkpoint into a fresh tiny model
// (as tinyArgs configures it) and returns every variable's values.
func checkpointValues(t *testing.T, out string) map[string][]float32 {
	t.Helper()
	c := cyclegan.DefaultConfig()
	c.NGF, c.NDF, c.Blocks = 8, 8, 2
	s, err := cyclegan.NewStep(c, -1, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.B.NewSession(graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ck := &graph.Checkpoints{Dir: filepath.Join(out, dirCheckpoints), Saver: s.Saver}
	if _, err := ck.Restore(sess, filepath.Base(latestCheckpoint(t, out))); err != nil {
		t.Fatal(err)
	}
	vals, err := graph.Values(sess, s.B.Variables())
	if err != nil {
		t.Fatal(err)
	}
	out2 := map[string][]float32{}
	for name, v := range vals {
		if out2[name], err = graph.Float32s(v); err != nil {
			t.Fatal(err)
		}
	}
	return out2
}

// Two processes on loopback, one tower each, train like one process with
// the same total batch split the same way into two towers (which the
// cyclegan package's tower test shows trains like one device).
func TestTwoProcessClusterTrainsLikeOneProcess(t *testing.T) {
	data := tinyData(t)
	cluster, _ := twoTaskCluster(t)
	one, two := t.TempDir(), t.TempDir()
	// A cluster trains in fp32 (see clusterPrecision); so does the one
	// process it is held to, also on CPUs where auto would pick bf16.
	steps := []string{"-max-steps", "4", "-batch", "2", "-precision", "fp32"}
	mustTrain(t, tinyArgs(data, one, append(steps, "-devices", "/device:CPU:0,/device:CPU:1")...)...)
	log := mustTrain(t, tinyArgs(data, two, append(steps, "-cluster", cluster)...)...)
	for _, want := range []string{"/job:worker/replica:0/task:1/device:CPU:0", "grpc://"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the chief's log does not mention %s:\n%s", want, log)
		}
	}
	a, b := checkpointValues(t, one), checkpointValues(t, two)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d variables", len(a), len(b))
	}
	for name, va := range a {
		vb := b[name]
		// The same ops on the same shares in the same order, on another
		// process: float32 results agree to rounding; 1e-6 is 1/200 of
		// the smallest step Adam takes here (lr 2e-4).
		for i := range va {
			if d := math.Abs(float64(va[i]) - float64(vb[i])); d > 1e-6 || math.IsNaN(d) {
				t.Fatalf("%s[%d]: one process %g, two processes %g", name, i, va[i], vb[i])
			}
		}
	}
}

// A worker killed mid-run: the chief stops with an error naming the
// cluster and the way to go on, and its last checkpoint resumes in a plain
// one-process run.
func TestChiefReportsADeadWorkerAndItsCheckpointResumesOnOneMachine(t *testing.T) {
	data := tinyData(t)
	cluster, worker := twoTaskCluster(t)
	out := t.TempDir()
	stepHook = func(step int64, _ []float32) {
		if step == 3 {
			worker.Process.Kill()
			worker.Wait()
		}
	}
	defer func() { stepHook = nil }()
	start := time.Now()
	code, log := runTraining(t, tinyArgs(data, out, "-max-steps", "40", "-batch", "2", "-checkpoint-every", "2",
		"-cluster", cluster)...)
	stepHook = nil
	if code == 0 {
		t.Fatalf("the chief finished although its worker was killed:\n%s", log)
	}
	for _, want := range []string{"step 4 on cluster " + cluster, "a task of the cluster failed or stopped",
		"/job:worker/replica:0/task:1", // TensorFlow's own error names the task
		"resumes with -resume", filepath.Join(out, dirCheckpoints)} {
		if !strings.Contains(log, want) {
			t.Errorf("the chief's error does not say %q:\n%s", want, log)
		}
	}
	t.Logf("chief stopped %s after start: %s", time.Since(start).Round(time.Millisecond), lastLine(log))
	if got := filepath.Base(latestCheckpoint(t, out)); got != "step-000000002" {
		t.Errorf("latest checkpoint %s, want step-000000002", got)
	}
	log = mustTrain(t, tinyArgs(data, out, "-max-steps", "5", "-batch", "2", "-resume")...)
	if !strings.Contains(log, "restored") || !strings.Contains(log, "step=2") {
		t.Fatalf("the one-machine resume did not restore step 2:\n%s", log)
	}
	if got := filepath.Base(latestCheckpoint(t, out)); got != "step-000000005" {
		t.Errorf("after resuming, latest checkpoint %s, want step-000000005", got)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func TestClusterAndTowerFlagsPlaceTheRunOrRefuseIt(t *testing.T) {
	const cluster = "worker=localhost:2222,localhost:2223"
	for _, tc := range []struct {
		name   string
		args   []string
		err    string
		device string
		towers []string
	}{
		{name: "towers on one machine", args: []string{"-devices", "/device:CPU:0,/device:CPU:1", "-batch", "2"},
			towers: []string{"/device:CPU:0", "/device:CPU:1"}},
		{name: "a batch the towers cannot share", args: []string{"-devices", "/device:CPU:0,/device:CPU:1", "-batch", "3"},
			err: "multiple of the 2 towers"},
		{name: "the chief of a cluster", args: []string{"-cluster", cluster, "-batch", "2"},
			device: "/job:worker/replica:0/task:0/device:CPU:0",
			towers: []string{"/job:worker/replica:0/task:0/device:CPU:0", "/job:worker/replica:0/task:1/device:CPU:0"}},
		{name: "another task must serve", args: []string{"-cluster", cluster, "-task", "1"}, err: "run the other tasks with -serve-task"},
		{name: "a task outside the cluster", args: []string{"-cluster", cluster, "-task", "2", "-serve-task"}, err: "tasks 0-1"},
		{name: "serving needs a cluster", args: []string{"-serve-task"}, err: "-serve-task needs -cluster"},
		{name: "a malformed cluster", args: []string{"-cluster", "worker=localhost"}, err: "want host:port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt, _, err := parseOptions(append([]string{"-data", "x"}, tc.args...), &bytes.Buffer{})
			if !checkError(t, err, tc.err) {
				return
			}
			if opt.Model.Device != tc.device || !slices.Equal(opt.Model.Towers, tc.towers) {
				t.Errorf("device %q towers %q, want %q %q", opt.Model.Device, opt.Model.Towers, tc.device, tc.towers)
			}
		})
	}
}
