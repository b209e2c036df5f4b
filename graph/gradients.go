package graph

import (
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// Gradients adds the ops computing d(y)/d(v.Read) for every v, through the
// runtime's C++ gradient registry (TF_AddGradientsWithPrefix). prefix names
// the added ops and must be unique in the graph. A variable that y does not
// depend on is an error: it would silently never train.
func (b *Builder) Gradients(prefix string, y tf.Output, vars []*Variable) ([]tf.Output, error) {
	xs := make([]tf.Output, len(vars))
	for i, v := range vars {
		xs[i] = v.Read
	}
	return b.GradientsOf(prefix, y, xs)
}

// GradientsOf returns d(y)/d(x) for every x, like Gradients, for any
// tensors (inputs as well as variable reads).
func (b *Builder) GradientsOf(prefix string, y tf.Output, xs []tf.Output) ([]tf.Output, error) {
	if err := b.Err(); err != nil {
		return nil, err
	}
	grads, err := b.g.AddGradients(prefix, []tf.Output{y}, xs, nil)
	if err != nil {
		return nil, fmt.Errorf("gradients %s of %s: %w", prefix, y.Op.Name(), err)
	}
	for i, g := range grads {
		if g.Op == nil {
			return nil, fmt.Errorf("gradients %s: %s does not depend on %s", prefix, y.Op.Name(), xs[i].Op.Name())
		}
	}
	return grads, nil
}
