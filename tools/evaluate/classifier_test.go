package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cyclegan/graph"
	"cyclegan/tools/faces"

	"github.com/sirupsen/logrus"
)

var tiny struct {
	once sync.Once
	dir  string
	err  error
}

// tinyRoot is the tiny synthetic data set the tests share (32x32, 60
// training faces per domain, 20 test pairs), written once per test binary.
func tinyData(t *testing.T) string {
	t.Helper()
	tiny.once.Do(func() {
		tiny.dir, tiny.err = os.MkdirTemp("", "evaluate-test-")
		if tiny.err == nil {
			tiny.dir = filepath.Join(tiny.dir, "data")
			tiny.err = faces.WriteDataset(tiny.dir, faces.Options{Size: 32, TrainPerDomain: 60, TestPairs: 20, Seed: 2})
		}
	})
	if tiny.err != nil {
		t.Fatal(tiny.err)
	}
	return tiny.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tiny.dir != "" {
		os.RemoveAll(filepath.Dir(tiny.dir))
	}
	os.Exit(code)
}

// testLog is a logger writing to the test's log.
func testLog(t *testing.T) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(tWriter{t})
	log.SetLevel(logrus.DebugLevel)
	return log
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// defaultClassifier is the command's default classifier configuration.
func defaultClassifier(t *testing.T) classifierConfig {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return o.Classifier
}

func TestClassifierTrainsOnTinySetTrustedAndCached(t *testing.T) {
	root := tinyData(t)
	pairs, err := loadPairs(root)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	cfg := defaultClassifier(t)
	c, err := trustedClassifier(root, cache, cfg, graph.SessionConfig{}, pairs.women, pairs.men, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := c.accuracy(pairs.women, pairs.men)
	c.close()
	if err != nil {
		t.Fatal(err)
	}
	if acc < minTrust {
		t.Fatalf("accuracy on the real test faces %.3f, want >= %.2f", acc, minTrust)
	}
	key, err := cacheKey(root, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cache, key, infoFile)); err != nil {
		t.Fatalf("trusted classifier not cached: %v", err)
	}

	// A second evaluation restores it: with zero training data it would
	// fail if it tried to train.
	c2, err := newClassifier(cfg, graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.close()
	ck := &graph.Checkpoints{Dir: cache, Saver: c2.saver}
	if _, err := ck.Restore(c2.sess, key); err != nil {
		t.Fatal(err)
	}
	if acc2, err := c2.accuracy(pairs.women, pairs.men); err != nil || acc2 != acc {
		t.Errorf("restored classifier accuracy %v (%v), want %v", acc2, err, acc)
	}
	var logs strings.Builder
	log := logrus.New()
	log.SetOutput(&logs)
	c3, err := trustedClassifier(root, cache, cfg, graph.SessionConfig{}, pairs.women, pairs.men, log)
	if err != nil {
		t.Fatal(err)
	}
	c3.close()
	if !strings.Contains(logs.String(), "restored from cache") || strings.Contains(logs.String(), "classifier trained") {
		t.Errorf("second evaluation did not restore the cached classifier:\n%s", logs.String())
	}

	// Another data set (here: another manifest) gets another key.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, faces.ManifestFile), []byte(`{"other":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if k2, err := cacheKey(other, cfg); err != nil || k2 == key {
		t.Errorf("cache key of another data set %q (%v), the tiny set's %q", k2, err, key)
	}
}

func TestUntrustworthyClassifierMakesEvaluateRefuse(t *testing.T) {
	root := tinyData(t)
	pairs, err := loadPairs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  func(c classifierConfig) classifierConfig
	}{
		{"labels swapped", func(c classifierConfig) classifierConfig { c.SwapLabels = true; return c }},
		{"untrained", func(c classifierConfig) classifierConfig { c.Steps = 0; return c }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			c, err := trustedClassifier(root, cache, tc.cfg(defaultClassifier(t)), graph.SessionConfig{}, pairs.women, pairs.men, testLog(t))
			if err == nil {
				c.close()
				t.Fatal("an untrustworthy classifier was accepted")
			}
			if !strings.Contains(err.Error(), "not trustworthy") {
				t.Errorf("error %q does not say the classifier is not trustworthy", err)
			}
			if names, _ := (&graph.Checkpoints{Dir: cache}).List(); len(names) != 0 {
				t.Errorf("untrustworthy classifier cached: %v", names)
			}
		})
	}
	// Through the command.
	var out strings.Builder
	err = run([]string{"-model", exportTinyModel(t), "-data", root, "-classifier-dir", t.TempDir(),
		"-classifier-steps", "0"}, &out, testLog(t))
	if out.Len() > 0 {
		t.Errorf("evaluate printed a report with an untrustworthy classifier:\n%s", out.String())
	}
	if err == nil || !strings.Contains(err.Error(), "not trustworthy") {
		t.Errorf("evaluate with an untrained classifier: %v, want a refusal", err)
	}
}
