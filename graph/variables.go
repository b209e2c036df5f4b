package graph

import (
	"hash/fnv"
	"slices"
	"strings"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// Variable is a resource variable: a VarHandleOp whose shared_name is its
// full op name, an initializer, and the one ReadVariableOp the model reads it
// through. Gradients are taken with respect to Read.
type Variable struct {
	// Name is the op name and shared_name, e.g. "G/c7s1/conv/kernel". It is
	// also the variable's key in checkpoints and SavedModels.
	Name      string
	Handle    tf.Output
	Read      tf.Output
	Initial   tf.Output
	Init      *tf.Operation
	Shape     []int64
	DType     tf.DataType
	Trainable bool
}

// Size returns the number of elements of v.
func (v *Variable) Size() int64 {
	n := int64(1)
	for _, d := range v.Shape {
		n *= d
	}
	return n
}

// Initializer makes the initial value of a variable of the given shape.
type Initializer func(b *Builder, shape []int64, name string) tf.Output

// Normal draws from N(mean, stddev²), with an op seed derived from the
// variable's name, so a graph initializes the same way every time.
func Normal(mean, stddev float64) Initializer {
	return func(b *Builder, shape []int64, name string) tf.Output {
		s := b.Scope("normal")
		h := fnv.New64a()
		h.Write([]byte(name))
		seed2 := int64(h.Sum64() & 0x7fffffffffffffff)
		z := op.RandomStandardNormal(s, op.Const(s.SubScope("shape"), shape), b.dtype,
			op.RandomStandardNormalSeed(b.state.seed), op.RandomStandardNormalSeed2(seed2))
		z = op.Mul(s, z, b.Scalar(stddev))
		if mean != 0 {
			z = op.Add(s, z, b.Scalar(mean))
		}
		return z
	}
}

// Constant fills the variable with c (Zeros and Ones are Constant(0), (1)).
func Constant(c float64) Initializer {
	return func(b *Builder, shape []int64, _ string) tf.Output {
		s := b.Scope("fill")
		return op.Fill(s, op.Const(s.SubScope("shape"), shape), b.Scalar(c))
	}
}

// Zeros initializes with 0.
func Zeros() Initializer { return Constant(0) }

// Ones initializes with 1.
func Ones() Initializer { return Constant(1) }

// Variable adds a trainable variable called name under b's variable path,
// or returns the one already there: building a network twice under the
// same names applies it twice with one set of weights (and one Read, so
// gradients from every application add up).
func (b *Builder) Variable(name string, shape []int64, init Initializer) *Variable {
	return b.variable(name, shape, b.dtype, init, true)
}

// StateVariable adds a non-trainable variable (optimizer slots, counters).
func (b *Builder) StateVariable(name string, shape []int64, dtype tf.DataType, init Initializer) *Variable {
	return b.variable(name, shape, dtype, init, false)
}

func (b *Builder) variable(name string, shape []int64, dtype tf.DataType, init Initializer, trainable bool) *Variable {
	full := join(b.vpath, name)
	if v, ok := b.state.byName[full]; ok {
		if !slices.Equal(v.Shape, shape) || v.DType != dtype {
			b.fail("variable %s is %v %v, asked again as %v %v", full, v.DType, v.Shape, dtype, shape)
		}
		return v
	}
	v := &Variable{Name: full, Shape: shape, DType: dtype, Trainable: trainable}
	b = b.at(b.vpath)
	handle := b.s.AddOperation(tf.OpSpec{Type: "VarHandleOp", Name: name,
		Attrs: map[string]any{"dtype": dtype, "shape": tf.MakeShape(shape...), "shared_name": full}})
	if handle == nil {
		return v
	}
	v.Handle = handle.Output(0)
	vs := b.Sub(name)
	v.Initial = init(vs.Sub("Initializer"), shape, full)
	if dtype != b.dtype {
		v.Initial = vs.Cast(v.Initial, dtype)
	}
	v.Init = vs.s.AddOperation(tf.OpSpec{Type: "AssignVariableOp", Name: "Assign",
		Input: []tf.Input{v.Handle, v.Initial}, Attrs: map[string]any{"dtype": dtype}})
	v.Read = vs.Sub("Read").add(tf.OpSpec{Type: "ReadVariableOp", Name: "ReadVariableOp",
		Input: []tf.Input{v.Handle}, Attrs: map[string]any{"dtype": dtype}})
	b.state.vars = append(b.state.vars, v)
	b.state.byName[full] = v
	return v
}

// Variables returns every variable added through any builder of this graph,
// in creation order.
func (b *Builder) Variables() []*Variable { return append([]*Variable(nil), b.state.vars...) }

// TrainableUnder returns the trainable variables whose names start with
// prefix+"/" (all trainable ones for prefix "").
func (b *Builder) TrainableUnder(prefix string) []*Variable {
	var out []*Variable
	for _, v := range b.state.vars {
		if v.Trainable && (prefix == "" || strings.HasPrefix(v.Name, prefix+"/")) {
			out = append(out, v)
		}
	}
	return out
}

// InitOp groups the initializers of vars under the name name.
func (b *Builder) InitOp(name string, vars []*Variable) *tf.Operation {
	ops := make([]*tf.Operation, 0, len(vars))
	for _, v := range vars {
		if v.Init != nil {
			ops = append(ops, v.Init)
		}
	}
	return b.Group(name, ops...)
}

// ParamCount sums the sizes of vars.
func ParamCount(vars []*Variable) int64 {
	var n int64
	for _, v := range vars {
		n += v.Size()
	}
	return n
}
