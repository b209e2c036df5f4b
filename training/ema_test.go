package main

import (
	"path/filepath"
	"slices"
	"testing"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

func TestEMARunExportsTheAveragedGeneratorsAndSamplesLeaveTheWeightsAlone(t *testing.T) {
	data, out := tinyData(t), t.TempDir()
	mustTrain(t, tinyArgs(data, out, "-max-steps", "6", "-ema", "0.9")...)

	// The run's state, restored from its checkpoint.
	tr := restoredTrainer(t, data, out, "-ema", "0.9")
	if tr.step.EMA == nil {
		t.Fatal("-ema 0.9 built no average")
	}
	trained, err := graph.Values(tr.sess, tr.step.GenVars)
	if err != nil {
		t.Fatal(err)
	}
	averaged, err := tr.step.EMA.Values(tr.sess)
	if err != nil {
		t.Fatal(err)
	}

	// The sample grid runs on the averages and puts the weights back.
	if err := tr.loadSamples(); err != nil {
		t.Fatal(err)
	}
	if err := tr.summary.Open(tr.sess, filepath.Join(out, dirLogs)); err != nil {
		t.Fatal(err)
	}
	defer tr.summary.Flush(tr.sess)
	if err := tr.writeSamples(); err != nil {
		t.Fatal(err)
	}
	after, err := graph.Values(tr.sess, tr.step.GenVars)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range tr.step.GenVars {
		if !sameTensor(t, after[v.Name], trained[v.Name]) {
			t.Fatalf("%s changed across the sample grid", v.Name)
		}
	}

	// The export holds the averages, not the trained weights.
	b, _, err := cyclegan.InferenceGraph(tr.opt.Model)
	if err != nil {
		t.Fatal(err)
	}
	saver := graph.NewSaver(b, "load", b.Variables())
	sess, err := b.NewSession(graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := saver.Restore(sess, filepath.Join(out, dirExport, "variables", "variables")); err != nil {
		t.Fatal(err)
	}
	exported, err := graph.Values(sess, b.Variables())
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for _, v := range tr.step.GenVars {
		if !sameTensor(t, exported[v.Name], averaged[v.Name]) {
			t.Fatalf("the export's %s is not the average", v.Name)
		}
		if !sameTensor(t, exported[v.Name], trained[v.Name]) {
			differ++
		}
	}
	if differ < len(tr.step.GenVars)/2 {
		t.Errorf("only %d of %d exported generator variables differ from the trained weights", differ, len(tr.step.GenVars))
	}
}

// sameTensor reports whether two float tensors hold the same numbers.
func sameTensor(t *testing.T, a, b *tf.Tensor) bool {
	t.Helper()
	fa, err := graph.Float32s(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := graph.Float32s(b)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Equal(fa, fb)
}
