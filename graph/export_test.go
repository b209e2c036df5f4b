package graph

import (
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cyclegan/internal/pycheck"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// smallNet is a little image-to-image net using the layers the CycleGAN
// needs, with any H and W.
func smallNet(b *Builder, x tf.Output) tf.Output { return smallNetWidth(b, x, 4) }

// smallNetWidth is smallNet with width channels in its first layer.
func smallNetWidth(b *Builder, x tf.Output, width int) tf.Output {
	n := b.Sub("net")
	h := n.Conv2D("c1", x, Conv{Filters: width, Kernel: 3, Pad: 1, Reflect: true, Bias: true})
	h = n.InstanceNorm("in1", h, true)
	h = n.LeakyReLU(h, 0.2)
	h = n.Conv2D("down", h, Conv{Filters: 6, Kernel: 3, Stride: 2, Pad: 1, Bias: true})
	h = n.ReLU(n.InstanceNorm("in2", h, false))
	h = n.ConvTranspose2D("up", h, Conv{Filters: 4, Kernel: 3, Stride: 2, Bias: true})
	h = n.ResizeConv2D("up2", h, Conv{Filters: 3, Kernel: 3, Stride: 1, Bias: true})
	return n.Tanh(h)
}

// trainedSmallNet builds smallNet for training (with one Adam step applied so
// the weights are not their initial values) and returns the session, the
// input, the output and the net's variables.
func trainedSmallNet(t testing.TB) (*tf.Session, tf.Output, tf.Output, []*Variable) {
	b := NewBuilder(tf.Float, 7)
	x := b.Placeholder("x", tf.Float, -1, -1, -1, 3)
	y := smallNet(b, x)
	vars := b.TrainableUnder("net")
	loss := b.L1(y, x)
	grads, err := b.Gradients("gradients", loss, vars)
	if err != nil {
		t.Fatal(err)
	}
	opt := NewAdam(b, "adam", 0.05, 0.5, 0.999, 1e-8)
	train := opt.Apply(vars, grads, nil)
	sess := newSession(t, b)
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3; i++ {
		run(t, sess, map[tf.Output]*tf.Tensor{x: randTensor(t, r, tf.Float, 0.5, 2, 8, 8, 3)}, nil, train)
	}
	return sess, x, y, vars
}

// exportSmallNet rebuilds smallNet as an inference graph and exports it
// with the trained values under signature "predict".
func exportSmallNet(t testing.TB, dir string, sess *tf.Session, vars []*Variable) {
	values, err := Values(sess, vars)
	if err != nil {
		t.Fatal(err)
	}
	eb := NewBuilder(tf.Float, 7)
	ex := eb.Placeholder("images", tf.Float, -1, -1, -1, 3)
	ey := eb.Identity("output", smallNet(eb, ex))
	sig := Signature{Key: "predict", Inputs: map[string]tf.Output{"x": ex}, Outputs: map[string]tf.Output{"y": ey}}
	if err := ExportSavedModel(dir, eb, eb.Variables(), []Signature{sig}, values); err != nil {
		t.Fatal(err)
	}
}

func TestExportedSavedModelMatchesTrainingSessionInGoAndPython(t *testing.T) {
	sess, x, y, vars := trainedSmallNet(t)
	dir := filepath.Join(t.TempDir(), "export")
	exportSmallNet(t, dir, sess, vars)
	for _, f := range []string{"saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("export lacks %s: %v", f, err)
		}
	}

	// Odd shapes, not multiples of anything.
	r := rand.New(rand.NewSource(2))
	in := randTensor(t, r, tf.Float, 0.7, 2, 7, 13, 3)
	want := flat(t, run(t, sess, map[tf.Output]*tf.Tensor{x: in}, []tf.Output{y})[0])

	// Go, through the C++ SavedModel loader, by the signature's tensor names.
	m, err := tf.LoadSavedModel(dir, []string{ServeTag}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Session.Close()
	sig, ok := m.Signatures["predict"]
	if !ok {
		t.Fatalf("signatures %v lack predict", m.Signatures)
	}
	gin := m.Graph.Operation(strings.Split(sig.Inputs["x"].Name, ":")[0]).Output(0)
	gout := m.Graph.Operation(strings.Split(sig.Outputs["y"].Name, ":")[0]).Output(0)
	got := flat(t, run(t, m.Session, map[tf.Output]*tf.Tensor{gin: in}, []tf.Output{gout})[0])
	if d := maxAbsDiff(got, want); d != 0 {
		t.Errorf("Go LoadSavedModel output differs from the training session by %g; want identical", d)
	}

	// Python TensorFlow, through tf.saved_model.load.
	resp, err := pycheck.Run(dir, []pycheck.Call{{Signature: "predict",
		Inputs: map[string]pycheck.Tensor{"x": {DType: "float32", Shape: []int64{2, 7, 13, 3}, Data: flat(t, in)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.TFVersion, "2.21.") {
		t.Errorf("Python TensorFlow is %s, want 2.21.x", resp.TFVersion)
	}
	py := resp.Results[0]["y"]
	if len(py.Data) != len(want) || py.Shape[1] != 8 || py.Shape[2] != 14 {
		t.Fatalf("Python output shape %v (%d values), want [2 8 14 3]", py.Shape, len(py.Data))
	}
	if d := maxAbsDiff(py.Data, want); d > 1e-5 {
		t.Errorf("Python output differs from Go by %g, want <= 1e-5", d)
	}

	out, err := pycheck.SavedModelCLI(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"signature_def['predict']", "inputs['x']", "outputs['y']", "DT_FLOAT"} {
		if !strings.Contains(out, s) {
			t.Errorf("saved_model_cli output lacks %q:\n%s", s, out)
		}
	}
}

func TestFailedExportLeavesPreviousExportIntact(t *testing.T) {
	sess, _, _, vars := trainedSmallNet(t)
	dir := filepath.Join(t.TempDir(), "export")
	exportSmallNet(t, dir, sess, vars)
	before := hashTree(t, dir)

	// An export that fails half-way (a variable without a value).
	values, err := Values(sess, vars[1:])
	if err != nil {
		t.Fatal(err)
	}
	eb := NewBuilder(tf.Float, 7)
	ex := eb.Placeholder("images", tf.Float, -1, -1, -1, 3)
	ey := smallNet(eb, ex)
	sig := Signature{Key: "predict", Inputs: map[string]tf.Output{"x": ex}, Outputs: map[string]tf.Output{"y": ey}}
	err = ExportSavedModel(dir, eb, eb.Variables(), []Signature{sig}, values)
	if err == nil || !strings.Contains(err.Error(), vars[0].Name) {
		t.Fatalf("export with a missing variable: err = %v, want one naming %s", err, vars[0].Name)
	}
	after := hashTree(t, dir)
	if len(after) != len(before) {
		t.Fatalf("export folder changed: %d files -> %d", len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Fatalf("export file %s changed", p)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("failed export left files beside the export: %v", entries)
	}
	if m, err := tf.LoadSavedModel(dir, []string{ServeTag}, nil); err != nil {
		t.Fatalf("previous export no longer loads: %v", err)
	} else {
		m.Session.Close()
	}
}
