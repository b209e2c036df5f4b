package main

import (
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/pycheck"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

func TestExportedModelGivesGosNumbersInPythonForBothSignaturesAndOddSizes(t *testing.T) {
	out := t.TempDir()
	mustTrain(t, tinyArgs(tinyData(t), out, "-max-steps", "12")...)
	dir := filepath.Join(out, dirExport)

	m, err := tf.LoadSavedModel(dir, []string{graph.ServeTag}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Session.Close()
	r := rand.New(rand.NewSource(4))
	shapes := [][]int64{{1, 37, 53, 3}, {2, 29, 31, 3}, {1, 8, 8, 3}}
	inputs := make([][]uint8, len(shapes))
	for i, shape := range shapes {
		inputs[i] = make([]uint8, shape[0]*shape[1]*shape[2]*3)
		for j := range inputs[i] {
			inputs[i][j] = uint8(r.Intn(256))
		}
	}
	var calls []pycheck.Call
	var want [][]uint8
	for _, sig := range []string{cyclegan.SigWoman2Man, cyclegan.SigMan2Woman, cyclegan.SigDefault} {
		s, ok := m.Signatures[sig]
		if !ok {
			t.Fatalf("the export has no %s signature", sig)
		}
		in := m.Graph.Operation(strings.TrimSuffix(s.Inputs[cyclegan.IOKey].Name, ":0")).Output(0)
		o := m.Graph.Operation(strings.TrimSuffix(s.Outputs[cyclegan.IOKey].Name, ":0")).Output(0)
		for k, shape := range shapes {
			px := inputs[k]
			data := make([]float64, len(px))
			for i := range px {
				data[i] = float64(px[i])
			}
			x, _ := tf.NewTensor(px)
			x.Reshape(shape)
			res, err := m.Session.Run(map[tf.Output]*tf.Tensor{in: x}, []tf.Output{o}, nil)
			if err != nil {
				t.Fatalf("%s on %v: %v", sig, shape, err)
			}
			if got := res[0].Shape(); !slices.Equal(got, shape) || res[0].DataType() != tf.Uint8 {
				t.Fatalf("%s on %v: output %v %v, want uint8 of the same shape", sig, shape, res[0].DataType(), got)
			}
			got, err := graph.Uint8s(res[0])
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, got)
			calls = append(calls, pycheck.Call{Signature: sig,
				Inputs: map[string]pycheck.Tensor{cyclegan.IOKey: {DType: "uint8", Shape: shape, Data: data}}})
		}
	}
	resp, err := pycheck.Run(dir, calls)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range resp.Results {
		got := res[cyclegan.IOKey]
		if got.DType != "uint8" || len(got.Data) != len(want[i]) {
			t.Fatalf("call %d (%s %v): Python gave %s %v", i, calls[i].Signature, calls[i].Inputs[cyclegan.IOKey].Shape, got.DType, got.Shape)
		}
		off := 0
		for j, v := range got.Data {
			d := v - float64(want[i][j])
			if d > 1 || d < -1 {
				t.Fatalf("call %d (%s): value %d differs by %g levels", i, calls[i].Signature, j, d)
			}
			if d != 0 {
				off++
			}
		}
		// Rounding may flip a value whose float lands on .5 within 1e-6.
		if off*1000 > len(got.Data) {
			t.Errorf("call %d (%s): %d of %d values differ by one level", i, calls[i].Signature, off, len(got.Data))
		}
	}
	// serving_default is woman2man.
	for i := range shapes {
		a, b := want[i], want[2*len(shapes)+i]
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("serving_default differs from woman2man on %v", shapes[i])
			}
		}
	}
	if _, err := pycheck.SavedModelCLI(dir); err != nil {
		t.Fatal(err)
	}
}

func TestExportClosesTheTrainingSessionBeforeBuildingItsOwn(t *testing.T) {
	out := t.TempDir()
	data := tinyData(t)
	mustTrain(t, tinyArgs(data, out, "-max-steps", "2")...)
	tr := restoredTrainer(t, data, out)
	if err := tr.export(); err != nil {
		t.Fatal(err)
	}
	// Both sessions alive at once is what made the export the process's
	// memory peak at 256x256; the training session must be gone by now.
	if _, err := tr.sess.Run(nil, nil, []*tf.Operation{tr.step.Init}); err == nil {
		t.Error("the training session still runs after the export; want it closed first")
	}
	if _, err := os.Stat(filepath.Join(out, dirExport, "saved_model.pb")); err != nil {
		t.Errorf("no SavedModel written: %v", err)
	}
}
