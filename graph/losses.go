package graph

import (
	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// MeanAll averages every element of x.
func (b *Builder) MeanAll(x tf.Output) tf.Output {
	s := b.Scope("mean_all")
	flat := op.Reshape(s, x, op.Const(s.SubScope("shape"), []int32{-1}))
	return op.Mean(s, flat, op.Const(s.SubScope("axis"), []int32{0}))
}

// BCEWithLogits is the mean binary cross-entropy between sigmoid(logits) and
// the target label (1 for real, 0 for fake), computed stably as
// relu(x) - x*z + log1p(exp(-|x|)).
func (b *Builder) BCEWithLogits(logits tf.Output, target float64) tf.Output {
	l := b.Sub("bce")
	s := l.Scope("terms")
	x := logits
	z := l.Scalar(target)
	loss := op.Add(s, op.Sub(s, op.Relu(s, x), op.Mul(s, x, z)),
		op.Log1p(s, op.Exp(s, op.Neg(s, op.Abs(s, x)))))
	return l.MeanAll(loss)
}

// MSEToLabel is the mean squared error between x and a constant label
// (the LSGAN adversarial loss).
func (b *Builder) MSEToLabel(x tf.Output, target float64) tf.Output {
	l := b.Sub("mse_label")
	return l.MeanAll(op.SquaredDifference(l.Scope("sq"), x, l.Scalar(target)))
}

// L1 is the mean absolute error between a and b.
func (b *Builder) L1(a, c tf.Output) tf.Output {
	l := b.Sub("l1")
	s := l.Scope("abs")
	return l.MeanAll(op.Abs(s, op.Sub(s, a, c)))
}

// L2 is the mean squared error between a and b.
func (b *Builder) L2(a, c tf.Output) tf.Output {
	l := b.Sub("l2")
	return l.MeanAll(op.SquaredDifference(l.Scope("sq"), a, c))
}

// Scale multiplies x by the constant k.
func (b *Builder) Scale(x tf.Output, k float64) tf.Output {
	return op.Mul(b.Scope("scale"), x, b.Scalar(k))
}

// Sum adds the tensors xs (AddN).
func (b *Builder) Sum(xs ...tf.Output) tf.Output {
	if len(xs) == 1 {
		return xs[0]
	}
	return op.AddN(b.Scope("sum"), xs)
}
