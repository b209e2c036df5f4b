package graph

import (
	"math"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

func TestEMAFollowsTheClosedFormFromTheInitialWeights(t *testing.T) {
	for _, decay := range []float64{0, 0.5, 0.9, 0.999} {
		b := NewBuilder(tf.Double, 1)
		v := b.Variable("w", []int64{3}, Normal(0, 1))
		// The "optimizer": w += [1, -2, 0.5] each step.
		s := b.Scope("step")
		step := b.assign("add", v, op.Add(s, b.read(v), b.Const([]float64{1, -2, 0.5})))
		e := NewEMA(b, "ema", []*Variable{v}, decay, step)
		sess := newSession(t, b)

		w := flat(t, run(t, sess, nil, []tf.Output{v.Read})[0])
		avg := flat(t, run(t, sess, nil, []tf.Output{e.Shadows[0].Read})[0])
		if d := maxAbsDiff(avg, w); d != 0 {
			t.Fatalf("decay %g: the average starts at %v, the weights at %v", decay, avg, w)
		}
		for i := 0; i < 30; i++ {
			run(t, sess, nil, nil, e.Update)
			w = flat(t, run(t, sess, nil, []tf.Output{v.Read})[0])
			d := math.Min(decay, float64(1+i)/float64(10+i))
			for j := range avg {
				avg[j] = d*avg[j] + (1-d)*w[j]
			}
			got, err := e.Values(sess)
			if err != nil {
				t.Fatal(err)
			}
			if diff := maxAbsDiff(flat(t, got["w"]), avg); diff > 1e-12 {
				t.Fatalf("decay %g, update %d: average %v, closed form %v", decay, i+1, flat(t, got["w"]), avg)
			}
		}
	}
}

func TestEMARefusesADecayOutsideZeroToOne(t *testing.T) {
	for _, decay := range []float64{-0.1, 1, 1.5} {
		b := NewBuilder(tf.Float, 1)
		v := b.Variable("w", []int64{1}, Ones())
		NewEMA(b, "ema", []*Variable{v}, decay)
		if b.Err() == nil {
			t.Errorf("decay %g: no error", decay)
		}
	}
}

func TestEMASwapExchangesWeightsAndAveragesAndSwapsBackExactly(t *testing.T) {
	b := NewBuilder(tf.Float, 1)
	v := b.Variable("w", []int64{2, 3}, Normal(0, 1))
	s := b.Scope("step")
	step := b.assign("add", v, op.Add(s, b.read(v), b.Scalar(0.37)))
	e := NewEMA(b, "ema", []*Variable{v}, 0.9, step)
	sess := newSession(t, b)
	for range 5 {
		run(t, sess, nil, nil, e.Update)
	}
	read := func() (w, avg []float64) {
		out := run(t, sess, nil, []tf.Output{v.Read, e.Shadows[0].Read})
		return flat(t, out[0]), flat(t, out[1])
	}
	w0, avg0 := read()
	if maxAbsDiff(w0, avg0) == 0 {
		t.Fatal("the weights and their average are equal: nothing to swap")
	}
	run(t, sess, nil, nil, e.Swap)
	w1, avg1 := read()
	if maxAbsDiff(w1, avg0) != 0 || maxAbsDiff(avg1, w0) != 0 {
		t.Fatalf("after one swap: weights %v average %v; want %v and %v", w1, avg1, avg0, w0)
	}
	run(t, sess, nil, nil, e.Swap)
	w2, avg2 := read()
	if maxAbsDiff(w2, w0) != 0 || maxAbsDiff(avg2, avg0) != 0 {
		t.Fatalf("after two swaps: weights %v average %v; want %v and %v", w2, avg2, w0, avg0)
	}
}
