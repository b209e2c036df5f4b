package graph

import (
	"strings"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

func TestGradientsOnPlacesEveryGradientOpAndMatchesGradients(t *testing.T) {
	const dev = "/device:CPU:1"
	b := NewBuilder(tf.Float, 1)
	w := b.Variable("w", []int64{3}, Constant(2))
	x := b.Const([]float32{1, -2, 3})
	s := b.Scope("y")
	y := op.Sum(s, op.Square(s, op.Mul(s, w.Read, x)), op.Const(s.SubScope("axis"), []int32{0}))
	placed, err := b.GradientsOn("placed", dev, y, []*Variable{w})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := b.Gradients("plain", y, []*Variable{w})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range b.Graph().Operations() {
		if strings.HasPrefix(o.Name(), "placed/") {
			n++
			if o.Device() != dev {
				t.Errorf("%s (%s) is on %q, want %s", o.Name(), o.Type(), o.Device(), dev)
			}
		}
	}
	if n == 0 {
		t.Fatal("no op under placed/")
	}
	sess, err := b.NewSession(SessionConfig{CPUDevices: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(nil, nil, []*tf.Operation{b.InitOp("init", b.Variables())}); err != nil {
		t.Fatal(err)
	}
	out, err := sess.Run(nil, []tf.Output{placed[0], plain[0]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// d/dw sum((w*x)^2) = 2*w*x^2 = 4*x^2: small integers, exact in float32.
	got, want := out[0].Value().([]float32), []float32{4, 16, 36}
	for i := range want {
		if got[i] != want[i] || out[1].Value().([]float32)[i] != want[i] {
			t.Fatalf("placed gradient %v, plain %v, want %v", got, out[1].Value(), want)
		}
	}
}
