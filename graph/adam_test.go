package graph

import (
	"math"
	"math/rand"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

func TestAdamStepsMatchClosedForm(t *testing.T) {
	const lr, b1, b2, eps = 0.01, 0.5, 0.999, 1e-8
	x0 := []float64{1.5, -2, 0.25, 3}
	g := []float64{0.3, -1.2, 2.5, -0.01}

	b := NewBuilder(tf.Double, 1)
	v := b.Variable("x", []int64{4}, func(b *Builder, _ []int64, _ string) tf.Output { return b.Const(x0) })
	opt := NewAdam(b, "adam", lr, b1, b2, eps)
	train := opt.Apply([]*Variable{v}, []tf.Output{b.Const(g)}, nil)
	sess := newSession(t, b)

	// Adam (Kingma & Ba) in TensorFlow's form, for a constant gradient.
	x := append([]float64(nil), x0...)
	m := make([]float64, 4)
	s := make([]float64, 4)
	for step := 1; step <= 3; step++ {
		run(t, sess, nil, nil, train)
		lrT := lr * math.Sqrt(1-math.Pow(b2, float64(step))) / (1 - math.Pow(b1, float64(step)))
		for i := range x {
			m[i] = b1*m[i] + (1-b1)*g[i]
			s[i] = b2*s[i] + (1-b2)*g[i]*g[i]
			x[i] -= lrT * m[i] / (math.Sqrt(s[i]) + eps)
		}
		got := flat(t, run(t, sess, nil, []tf.Output{v.Read})[0])
		if d := maxAbsDiff(got, x); d > 1e-12 {
			t.Fatalf("step %d: x = %v, closed form %v (diff %g)", step, got, x, d)
		}
		if step == 1 {
			// Bias correction makes the first step exactly lr against the
			// sign of the gradient (up to epsilon), whatever its size.
			for i := range x0 {
				if d := math.Abs(got[i] - (x0[i] - lr*math.Copysign(1, g[i]))); d > 1e-6 {
					t.Errorf("first step of element %d: %g -> %g, want a move of %g", i, x0[i], got[i], lr)
				}
			}
		}
	}
}

func TestAdamLearningRateCanBeChanged(t *testing.T) {
	b := NewBuilder(tf.Float, 1)
	v := b.Variable("x", []int64{1}, Ones())
	opt := NewAdam(b, "adam", 0.1, 0.9, 0.999, 1e-8)
	train := opt.Apply([]*Variable{v}, []tf.Output{b.Const([]float32{1})}, nil)
	sess := newSession(t, b)
	if err := opt.SetLearningRate(sess, 0); err != nil {
		t.Fatal(err)
	}
	run(t, sess, nil, nil, train)
	if got := flat(t, run(t, sess, nil, []tf.Output{v.Read})[0])[0]; got != 1 {
		t.Fatalf("with learning rate 0 the variable moved to %g", got)
	}
	if err := opt.SetLearningRate(sess, 0.25); err != nil {
		t.Fatal(err)
	}
	if lr := flat(t, run(t, sess, nil, []tf.Output{opt.LR.Read})[0])[0]; lr != 0.25 {
		t.Fatalf("learning rate variable = %g, want 0.25", lr)
	}
	run(t, sess, nil, nil, train)
	if got := flat(t, run(t, sess, nil, []tf.Output{v.Read})[0])[0]; got >= 1 {
		t.Fatalf("with learning rate 0.25 the variable did not move: %g", got)
	}
}

func TestSmallConvNetLearnsFixedMappingTenfold(t *testing.T) {
	// Learn a fixed image-to-image mapping (a random 3x3 colour mixing
	// convolution followed by tanh) with a reflect-padded conv net.
	b := NewBuilder(tf.Float, 11)
	x := b.Placeholder("x", tf.Float, -1, 8, 8, 3)
	teacher := b.Sub("teacher")
	tw := teacher.Variable("w", []int64{3, 3, 3, 3}, Normal(0, 0.3))
	target := teacher.Tanh(convWith(teacher, teacher.Pad2D(x, 1, true), tw))
	n := b.Sub("student")
	h := n.Conv2D("c1", x, Conv{Filters: 16, Kernel: 3, Pad: 1, Reflect: true, Bias: true, Init: Normal(0, 0.1)})
	h = n.ReLU(h)
	h = n.Conv2D("c2", h, Conv{Filters: 3, Kernel: 3, Pad: 1, Reflect: true, Bias: true, Init: Normal(0, 0.1)})
	y := n.Tanh(h)
	loss := b.L2(y, target)
	vars := b.TrainableUnder("student")
	grads, err := b.Gradients("gradients", loss, vars)
	if err != nil {
		t.Fatal(err)
	}
	train := NewAdam(b, "adam", 0.01, 0.9, 0.999, 1e-8).Apply(vars, grads, nil)
	sess := newSession(t, b)
	r := rand.New(rand.NewSource(3))
	batch := func() map[tf.Output]*tf.Tensor {
		return map[tf.Output]*tf.Tensor{x: randTensor(t, r, tf.Float, 0.6, 8, 8, 8, 3)}
	}
	eval := batch()
	first := flat(t, run(t, sess, eval, []tf.Output{loss})[0])[0]
	for i := 0; i < 400; i++ {
		run(t, sess, batch(), nil, train)
	}
	last := flat(t, run(t, sess, eval, []tf.Output{loss})[0])[0]
	t.Logf("loss %.5f -> %.6f (%.0fx)", first, last, first/last)
	if last*10 > first {
		t.Fatalf("loss fell from %g to %g, less than tenfold", first, last)
	}
}

func convWith(b *Builder, x tf.Output, w *Variable) tf.Output {
	return convOp(b, x, w.Read)
}
