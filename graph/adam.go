package graph

import (
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// Adam is the Adam optimizer applied with ResourceApplyAdam. Its learning
// rate lives in a variable, so a schedule can change it between steps (and
// checkpoints keep it), and its first and second moments are slot variables
// named "<var>/Adam" and "<var>/Adam_1", as TensorFlow's own Adam names them.
type Adam struct {
	Beta1, Beta2, Epsilon float64

	b          *Builder
	name       string
	LR         *Variable // learning rate
	Beta1Power *Variable // beta1^t
	Beta2Power *Variable // beta2^t
	slots      []*Variable
	lrFeed     tf.Output
	lrAssign   *tf.Operation
}

// NewAdam adds an Adam optimizer's state (learning rate, beta powers) under
// name: learning rate lr, and the moment decays and epsilon given.
func NewAdam(b *Builder, name string, lr, beta1, beta2, epsilon float64) *Adam {
	l := b.Sub(name)
	a := &Adam{Beta1: beta1, Beta2: beta2, Epsilon: epsilon, b: l, name: name}
	a.LR = l.StateVariable("learning_rate", nil, b.dtype, Constant(lr))
	a.Beta1Power = l.StateVariable("beta1_power", nil, b.dtype, Constant(beta1))
	a.Beta2Power = l.StateVariable("beta2_power", nil, b.dtype, Constant(beta2))
	a.lrFeed = l.Placeholder("learning_rate_value", b.dtype)
	a.lrAssign = l.s.AddOperation(tf.OpSpec{Type: "AssignVariableOp", Name: "set_learning_rate",
		Input: []tf.Input{a.LR.Handle, a.lrFeed}, Attrs: map[string]any{"dtype": b.dtype}})
	return a
}

// Slots returns the moment variables made by Apply.
func (a *Adam) Slots() []*Variable { return append([]*Variable(nil), a.slots...) }

// Apply adds one Adam update of vars with grads and returns the op that runs
// it. The updates wait for after: the ops that must have read the variables
// first (pass every ReadVariableOp of the step, so no update can overtake a
// read). The beta powers advance after all updates.
func (a *Adam) Apply(vars []*Variable, grads []tf.Output, after []*tf.Operation) *tf.Operation {
	b := a.b
	if len(vars) != len(grads) {
		b.fail("adam %s: %d variables but %d gradients", a.name, len(vars), len(grads))
		return nil
	}
	u := b.WithControlDependencies(after...).Sub("update")
	hyper := u.Sub("hyper")
	beta1, beta2, eps := hyper.Scalar(a.Beta1), hyper.Scalar(a.Beta2), hyper.Scalar(a.Epsilon)
	lr := u.Sub("lr").read(a.LR)
	p1, p2 := u.Sub("p1").read(a.Beta1Power), u.Sub("p2").read(a.Beta2Power)
	applies := make([]*tf.Operation, 0, len(vars))
	for i, v := range vars {
		// Slots live next to their variable: "<var>/Adam", "<var>/Adam_1".
		vs := b.at(v.Name)
		m := vs.StateVariable("Adam", v.Shape, v.DType, Zeros())
		m2 := vs.StateVariable("Adam_1", v.Shape, v.DType, Zeros())
		a.slots = append(a.slots, m, m2)
		applies = append(applies, u.s.AddOperation(tf.OpSpec{
			Type:  "ResourceApplyAdam",
			Name:  fmt.Sprintf("apply_%d", i),
			Input: []tf.Input{v.Handle, m.Handle, m2.Handle, p1, p2, lr, beta1, beta2, eps, grads[i]},
			Attrs: map[string]any{"T": v.DType},
		}))
	}
	adv := u.WithControlDependencies(applies...).Sub("advance")
	n1 := adv.assign("beta1_power", a.Beta1Power, op.Mul(adv.Scope("beta1_power_next"), p1, beta1))
	n2 := adv.assign("beta2_power", a.Beta2Power, op.Mul(adv.Scope("beta2_power_next"), p2, beta2))
	return b.Group("apply", n1, n2)
}

// SetLearningRate assigns lr to the optimizer's learning-rate variable.
func (a *Adam) SetLearningRate(sess *tf.Session, lr float64) error {
	var t *tf.Tensor
	var err error
	if a.b.dtype == tf.Double {
		t, err = tf.NewTensor(lr)
	} else {
		t, err = tf.NewTensor(float32(lr))
	}
	if err != nil {
		return err
	}
	if _, err := sess.Run(map[tf.Output]*tf.Tensor{a.lrFeed: t}, nil, []*tf.Operation{a.lrAssign}); err != nil {
		return fmt.Errorf("adam %s: set learning rate %g: %w", a.name, lr, err)
	}
	return nil
}

// read adds a ReadVariableOp of v under b.
func (b *Builder) read(v *Variable) tf.Output {
	return op.ReadVariableOp(b.Scope("read"), v.Handle, v.DType)
}

// assign adds an AssignVariableOp of value to v, named name under b.
func (b *Builder) assign(name string, v *Variable, value tf.Output) *tf.Operation {
	return b.s.AddOperation(tf.OpSpec{Type: "AssignVariableOp", Name: name,
		Input: []tf.Input{v.Handle, value}, Attrs: map[string]any{"dtype": v.DType}})
}
