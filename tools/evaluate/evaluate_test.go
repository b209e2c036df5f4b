package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"path/filepath"
	"sync"
	"testing"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

var tinyModel struct {
	once sync.Once
	dir  string
}

// exportTinyModel trains a tiny CycleGAN a few steps on random images and
// exports it, once per test binary, under the tiny data set's parent
// directory (removed by TestMain). It returns the SavedModel's directory.
func exportTinyModel(t *testing.T) string {
	t.Helper()
	root := tinyData(t)
	tinyModel.once.Do(func() { tinyModel.dir = doExportTinyModel(t, filepath.Join(filepath.Dir(root), "export")) })
	if tinyModel.dir == "" {
		t.Fatal("the tiny model could not be exported (see the first test that tried)")
	}
	return tinyModel.dir
}

func doExportTinyModel(t *testing.T, dir string) string {
	t.Helper()
	const size = 32
	c := cyclegan.DefaultConfig()
	c.NGF, c.NDF, c.Blocks, c.DLayers = 8, 8, 2, 3
	s, err := cyclegan.NewStep(c, 1, size, 3)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.InitializedSession(graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	r := rand.New(rand.NewSource(1))
	img := func() *tf.Tensor {
		v := make([]float32, size*size*3)
		for i := range v {
			v[i] = float32(math.Tanh(r.NormFloat64()))
		}
		x, err := tf.NewTensor(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Reshape([]int64{1, size, size, 3}); err != nil {
			t.Fatal(err)
		}
		return x
	}
	yes, _ := tf.NewTensor([]bool{true})
	for i := 0; i < 3; i++ {
		feeds := map[tf.Output]*tf.Tensor{s.Woman: img(), s.Man: img(), s.PoolWoman: img(), s.PoolMan: img(),
			s.UseCurrentWoman: yes, s.UseCurrentMan: yes}
		if _, err := sess.Run(feeds, nil, []*tf.Operation{s.Train}); err != nil {
			t.Fatal(err)
		}
	}
	values, err := graph.Values(sess, s.GenVars)
	if err != nil {
		t.Fatal(err)
	}
	if err := cyclegan.Export(dir, c, values); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEvaluateJSONOnTinyModelHasEveryFigureInRange(t *testing.T) {
	root := tinyData(t)
	model := exportTinyModel(t)
	cache := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"-model", model, "-data", root, "-classifier-dir", cache, "-json"}, &out, testLog(t)); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", out.String())
	var report map[string]map[string]float64
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(report) != 2 {
		t.Errorf("report has %d directions, want woman2man and man2woman", len(report))
	}
	keys := []string{"mae_to_truth", "mae_baseline", "gap_closed", "cycle_mae", "identity_mae", "domain_accuracy", "n"}
	for _, d := range []string{"woman2man", "man2woman"} {
		m, ok := report[d]
		if !ok {
			t.Errorf("no %s in the report", d)
			continue
		}
		if len(m) != len(keys) {
			t.Errorf("%s has %d keys, want %d: %v", d, len(m), len(keys), m)
		}
		for _, k := range keys {
			v, ok := m[k]
			if !ok {
				t.Errorf("%s lacks %s", d, k)
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s %s = %v, want a finite number", d, k, v)
			}
		}
		for _, k := range []string{"mae_to_truth", "mae_baseline", "cycle_mae", "identity_mae"} {
			if m[k] < 0 || m[k] > 255 {
				t.Errorf("%s %s = %v, want within [0, 255]", d, k, m[k])
			}
		}
		if m["mae_baseline"] <= 0 {
			t.Errorf("%s mae_baseline = %v: a woman and a man should differ", d, m["mae_baseline"])
		}
		if m["gap_closed"] > 1 {
			t.Errorf("%s gap_closed = %v, want <= 1", d, m["gap_closed"])
		}
		if a := m["domain_accuracy"]; a < 0 || a > 1 {
			t.Errorf("%s domain_accuracy = %v, want within [0, 1]", d, a)
		}
		if m["n"] != 20 {
			t.Errorf("%s n = %v, want the 20 test pairs", d, m["n"])
		}
	}

	// The table form names both directions too (its classifier comes from
	// the cache).
	var tab bytes.Buffer
	if err := run([]string{"-model", model, "-data", root, "-classifier-dir", cache}, &tab, testLog(t)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(tab.Bytes(), []byte("woman2man")) || !bytes.Contains(tab.Bytes(), []byte("man2woman")) {
		t.Errorf("table:\n%s", tab.String())
	}
}

func TestEvaluateReportsAMissingModelAndUnpairedData(t *testing.T) {
	root := tinyData(t)
	err := run([]string{"-model", filepath.Join(t.TempDir(), "none"), "-data", root, "-classifier-dir", t.TempDir()}, &bytes.Buffer{}, testLog(t))
	if err == nil {
		t.Fatal("a missing model was accepted")
	}
	t.Log(err)
	if _, err := loadPairs(t.TempDir()); err == nil {
		t.Error("an empty data set was accepted")
	}
}
