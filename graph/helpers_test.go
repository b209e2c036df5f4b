package graph

import (
	"math"
	"math/rand"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// flat returns a float tensor's elements as float64s, row-major.
func flat(t testing.TB, x *tf.Tensor) []float64 {
	t.Helper()
	var out []float64
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case float32:
			out = append(out, float64(v))
		case float64:
			out = append(out, v)
		case []float32:
			for _, e := range v {
				out = append(out, float64(e))
			}
		case []float64:
			out = append(out, v...)
		case [][]float32, [][][]float32, [][][][]float32, [][]float64, [][][]float64, [][][][]float64:
			walkSlice(v, walk)
		default:
			t.Fatalf("flat: unsupported value %T", v)
		}
	}
	walk(x.Value())
	return out
}

func walkSlice(v any, f func(any)) {
	switch v := v.(type) {
	case [][]float32:
		for _, e := range v {
			f(e)
		}
	case [][][]float32:
		for _, e := range v {
			f(e)
		}
	case [][][][]float32:
		for _, e := range v {
			f(e)
		}
	case [][]float64:
		for _, e := range v {
			f(e)
		}
	case [][][]float64:
		for _, e := range v {
			f(e)
		}
	case [][][][]float64:
		for _, e := range v {
			f(e)
		}
	}
}

// randTensor makes a tensor of dtype with the given shape, N(0, scale²)
// elements drawn from r.
func randTensor(t testing.TB, r *rand.Rand, dtype tf.DataType, scale float64, shape ...int64) *tf.Tensor {
	t.Helper()
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = r.NormFloat64() * scale
	}
	return tensorOf(t, dtype, vals, shape...)
}

// tensorOf builds a tensor of dtype and shape from row-major values.
func tensorOf(t testing.TB, dtype tf.DataType, vals []float64, shape ...int64) *tf.Tensor {
	t.Helper()
	var x *tf.Tensor
	var err error
	if dtype == tf.Double {
		x, err = tf.NewTensor(vals)
	} else {
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		x, err = tf.NewTensor(f)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Reshape(shape); err != nil {
		t.Fatal(err)
	}
	return x
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// run runs fetches in sess, failing the test on error.
func run(t testing.TB, sess *tf.Session, feeds map[tf.Output]*tf.Tensor, fetches []tf.Output, targets ...*tf.Operation) []*tf.Tensor {
	t.Helper()
	out, err := sess.Run(feeds, fetches, targets)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newSession opens a session on b's graph and runs every initializer.
func newSession(t testing.TB, b *Builder) *tf.Session {
	t.Helper()
	init := b.InitOp("init_all", b.Variables())
	sess, err := b.NewSession(SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	run(t, sess, nil, nil, init)
	return sess
}

// convOp is a plain stride-1 VALID convolution of x with kernel w.
func convOp(b *Builder, x, w tf.Output) tf.Output {
	return op.Conv2D(b.Scope("conv"), x, w, []int64{1, 1, 1, 1}, "VALID")
}
