package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cyclegan/internal/dataset"
	"cyclegan/internal/tfrt"
	"cyclegan/tools/faces"

	"github.com/sirupsen/logrus"
)

// helperEnv makes the test binary run the training program itself with the
// arguments in TRAINING_ARGS (one per line), for tests that signal it.
const helperEnv = "TRAINING_TEST_HELPER"

func TestMain(m *testing.M) {
	// The kernels the training program runs (tfrt.DefaultRuntime).
	if err := tfrt.DefaultRuntime(false, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if os.Getenv(helperEnv) == "train" {
		os.Exit(run(strings.Split(os.Getenv("TRAINING_ARGS"), "\n"), newLogger(os.Stderr)))
	}
	code := m.Run()
	os.RemoveAll(fixtureDir)
	os.Exit(code)
}

func newLogger(w *os.File) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(w)
	return l
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// tinyData is the training split (woman/, man/) of a small synthetic face
// set (36x36, 24 per domain), made once per test binary.
func tinyData(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "training-test-")
		if fixtureErr == nil {
			fixtureErr = faces.WriteDataset(filepath.Join(fixtureDir, "faces"),
				faces.Options{Size: 36, TrainPerDomain: 24, TestPairs: 4, Seed: 3})
		}
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return filepath.Join(fixtureDir, "faces", faces.TrainDir)
}

// tinyArgs trains a model small enough for tests on data, into out.
func tinyArgs(data, out string, extra ...string) []string {
	return append([]string{"-data", data, "-out", out, "-size", "32", "-load-size", "36",
		"-ngf", "8", "-ndf", "8", "-blocks", "2", "-epochs", "2", "-decay-epochs", "1",
		"-log-every", "5", "-checkpoint-every", "10", "-workers", "2", "-pool", "4"}, extra...)
}

// runTraining runs the program in this process and returns its exit status
// and log.
func runTraining(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	code := run(args, l)
	return code, buf.String()
}

func mustTrain(t *testing.T, args ...string) string {
	t.Helper()
	code, log := runTraining(t, args...)
	if code != 0 {
		t.Fatalf("training %v exited %d:\n%s", args, code, log)
	}
	return log
}

// restoredTrainer returns a trainer on the run in out, started from its
// latest checkpoint as -export-only starts it (the flags are tinyArgs plus
// extra); it is closed when the test ends.
func restoredTrainer(t *testing.T, data, out string, extra ...string) *trainer {
	t.Helper()
	opt, _, err := parseOptions(tinyArgs(data, out, append(extra, "-export-only")...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dataset.Scan(opt.Data)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	var stop atomic.Bool
	tr, err := newTrainer(opt, files, log, &stop, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.close)
	if err := tr.start(); err != nil {
		t.Fatal(err)
	}
	return tr
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func latestCheckpoint(t *testing.T, out string) string {
	t.Helper()
	p, err := os.ReadFile(filepath.Join(out, dirCheckpoints, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	var name string
	fmt.Sscanf(strings.TrimPrefix(strings.TrimSpace(string(p)), `{"latest":`), "%q", &name)
	if name == "" {
		t.Fatalf("no latest checkpoint in %s: %s", out, p)
	}
	return filepath.Join(out, dirCheckpoints, name)
}
