package graph

import (
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// EMA keeps an exponential moving average of variables: one shadow variable
// per averaged variable, "<var>/ExponentialMovingAverage" as TensorFlow's
// tf.train.ExponentialMovingAverage names it. Each run of Update moves every
// shadow towards its variable's current value:
//
//	shadow -= (1 - d) * (shadow - var),  d = min(Decay, (1 + t) / (10 + t))
//
// where t counts the updates before this one. The ramp on d (TensorFlow's
// num_updates rule) keeps the early averages from clinging to the initial
// weights. Shadows start at their variable's initial value.
type EMA struct {
	Decay   float64
	Vars    []*Variable // the averaged variables
	Shadows []*Variable // Shadows[i] averages Vars[i]
	Updates *Variable   // t: updates done
	// Update moves the averages one step; it runs after its after ops.
	Update *tf.Operation
	// Swap exchanges the values of every variable and its shadow; run
	// twice, it restores both exactly. Between the two runs the graph
	// computes with the averages (for sample images, say).
	Swap *tf.Operation
}

// NewEMA adds the shadows of vars, a counter under name, and the update,
// which waits for after (typically the optimizer's apply, so the average
// takes the updated weights).
func NewEMA(b *Builder, name string, vars []*Variable, decay float64, after ...*tf.Operation) *EMA {
	e := &EMA{Decay: decay, Vars: vars}
	if decay < 0 || decay >= 1 {
		b.fail("ema %s: decay %g: want [0, 1)", name, decay)
		return e
	}
	l := b.Sub(name)
	e.Updates = l.StateVariable("num_updates", nil, b.dtype, Zeros())
	u := b.WithControlDependencies(after...).Sub(name).Sub("update")
	t := u.Sub("t").read(e.Updates)
	// d = min(decay, (1 + t) / (10 + t)); the step size is 1 - d.
	s := u.Scope("decay")
	ramp := op.Div(s.SubScope("ramp"), op.Add(s.SubScope("t_plus_1"), t, u.Scalar(1)), op.Add(s.SubScope("t_plus_10"), t, u.Scalar(10)))
	step := op.Sub(s.SubScope("step"), u.Scalar(1), op.Minimum(s.SubScope("min"), ramp, u.Scalar(decay)))
	updates := make([]*tf.Operation, 0, len(vars))
	for i, v := range vars {
		shadow := b.at(v.Name).StateVariable("ExponentialMovingAverage", v.Shape, v.DType, fromInitial(v))
		e.Shadows = append(e.Shadows, shadow)
		vs := u.Scope(fmt.Sprintf("var_%d", i))
		cur := op.ReadVariableOp(vs.SubScope("shadow"), shadow.Handle, v.DType)
		val := op.ReadVariableOp(vs.SubScope("value"), v.Handle, v.DType)
		delta := op.Mul(vs.SubScope("delta"), step, op.Sub(vs.SubScope("diff"), cur, val))
		updates = append(updates, vs.AddOperation(tf.OpSpec{Type: "AssignSubVariableOp", Name: "assign_sub",
			Input: []tf.Input{shadow.Handle, delta}, Attrs: map[string]any{"dtype": v.DType}}))
	}
	e.Swap = swapValues(l.Sub("swap"), vars, e.Shadows)
	adv := u.WithControlDependencies(updates...).Sub("advance")
	next := adv.assign("num_updates", e.Updates, op.Add(adv.Scope("num_updates_next"), t, adv.Scalar(1)))
	e.Update = b.Group(name+"_update", next)
	return e
}

// swapValues returns an op that exchanges the values of a[i] and b[i]: it
// reads every value first, then assigns each the other's.
func swapValues(bld *Builder, a, b []*Variable) *tf.Operation {
	reads := make([]tf.Output, 0, 2*len(a))
	var readOps []*tf.Operation
	for i := range a {
		s := bld.Scope(fmt.Sprintf("read_%d", i))
		ra := op.ReadVariableOp(s.SubScope("a"), a[i].Handle, a[i].DType)
		rb := op.ReadVariableOp(s.SubScope("b"), b[i].Handle, b[i].DType)
		reads = append(reads, ra, rb)
		readOps = append(readOps, ra.Op, rb.Op)
	}
	w := bld.WithControlDependencies(readOps...)
	assigns := make([]*tf.Operation, 0, 2*len(a))
	for i := range a {
		assigns = append(assigns, w.assign(fmt.Sprintf("assign_%d_a", i), a[i], reads[2*i+1]),
			w.assign(fmt.Sprintf("assign_%d_b", i), b[i], reads[2*i]))
	}
	return bld.Group("swap", assigns...)
}

// fromInitial initializes a variable with v's initial value: run in the same
// initialization as v, the two get the same numbers, random ones included.
func fromInitial(v *Variable) Initializer {
	return func(*Builder, []int64, string) tf.Output { return v.Initial }
}

// Values reads the averages, keyed by the averaged variables' names: what
// Values(sess, e.Vars) would give if the weights were the averages.
func (e *EMA) Values(sess *tf.Session) (map[string]*tf.Tensor, error) {
	shadow, err := Values(sess, e.Shadows)
	if err != nil {
		return nil, fmt.Errorf("ema: %w", err)
	}
	m := make(map[string]*tf.Tensor, len(e.Vars))
	for i, v := range e.Vars {
		m[v.Name] = shadow[e.Shadows[i].Name]
	}
	return m, nil
}
