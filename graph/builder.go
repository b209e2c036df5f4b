// Package graph builds models as TensorFlow graphs from Go: resource
// variables, the layers and losses the CycleGAN needs, gradients from the
// runtime's C++ registry, Adam, checkpoints and SavedModel export.
//
// A Builder wraps a tf.Graph and a name scope. Construction errors are
// recorded in the builder (like op.Scope) and reported by Err, so model code
// reads top to bottom without an error check after every layer.
package graph

import (
	"fmt"
	"strings"

	_ "cyclegan/internal/tfrt" // links the runtime (both libraries)

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
	tg "github.com/galeone/tfgo"
)

// Builder adds operations to one graph under a name scope. Builders made
// with Sub share the graph, the variable list and the first error.
type Builder struct {
	g *tf.Graph
	s *op.Scope
	// vpath is the variable path: the names given to Sub, joined, never
	// made unique (op.Scope makes op namespaces unique), so a network built
	// twice under the same names shares its variables.
	vpath  string
	device string
	// varDevice, when varPinned, places the variables created through
	// this builder instead of device (see VariablesOn).
	varDevice string
	varPinned bool
	state     *state
	// DType is the floating type of variables and constants made by layers.
	dtype tf.DataType
	// rowHalves makes Conv2D and ResizeConv2D run each image as two
	// stacked halves (see WithRowHalves).
	rowHalves bool
}

type state struct {
	root   *op.Scope
	vars   []*Variable
	byName map[string]*Variable
	// homes are the exact-path builders that variables are created in.
	homes map[string]*Builder
	seed  int64
	err   error
}

// NewBuilder returns a builder for a new, empty graph whose variables and
// constants have the given floating dtype (tf.Float or tf.Double). seed
// makes random initializers reproducible.
func NewBuilder(dtype tf.DataType, seed int64) *Builder {
	g := tf.NewGraph()
	root := op.NewScopeWithGraph(g)
	return &Builder{g: g, s: root, dtype: dtype,
		state: &state{root: root, seed: seed, byName: map[string]*Variable{}, homes: map[string]*Builder{}}}
}

// Graph returns the graph being built.
func (b *Builder) Graph() *tf.Graph { return b.g }

// DType returns the floating dtype of the builder's variables.
func (b *Builder) DType() tf.DataType { return b.dtype }

// Sub returns a builder whose operations are named under name (made unique
// within b if already used) and whose variables are named under name (not
// made unique: see Variable).
func (b *Builder) Sub(name string) *Builder {
	c := *b
	c.s = b.s.SubScope(name)
	c.vpath = join(b.vpath, name)
	return &c
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

// at returns the builder whose namespace is exactly path (no uniquifying),
// without b's control dependencies: variables are created there, so their
// names are their paths. The first caller's device sticks to the path.
func (b *Builder) at(path string) *Builder {
	if h, ok := b.state.homes[path]; ok {
		return h
	}
	c := *b
	dev := b.device
	if b.varPinned {
		dev = b.varDevice
	}
	c.device = dev
	c.s, c.vpath = b.state.root.WithDevice(dev), path
	if path != "" {
		c.s = c.s.SubScope(path)
	}
	b.state.homes[path] = &c
	return &c
}

// WithDevice returns a builder that places its operations on device (for
// example "/device:GPU:0"); "" lets the runtime choose.
func (b *Builder) WithDevice(device string) *Builder {
	c := *b
	c.s = b.s.WithDevice(device)
	c.device = device
	return &c
}

// VariablesOn returns a builder that creates its variables (and their
// reads, initializers and optimizer slots) on device, whatever the device
// of the ops that use them: data-parallel towers share variables kept on
// one device.
func (b *Builder) VariablesOn(device string) *Builder {
	c := *b
	c.varDevice, c.varPinned = device, true
	return &c
}

// WithRowHalves returns a builder whose convolutions (Conv2D and
// ResizeConv2D) cut every image into the top and bottom halves of its output
// rows, each with the input rows it reads, and run the halves as one batch
// of twice the images. The numbers are those of the plain convolution; what
// changes is the batch the kernel sees. TensorFlow's oneDNN convolution
// keeps the weights of a one-image batch in their plain layout when they
// are not constant (mkl_conv_ops.cc), which picks its GEMM fallback: on this
// project's AVX2 machine that ran a training step's one-image generator
// passes several times slower per image than a two-image batch.
func (b *Builder) WithRowHalves() *Builder {
	c := *b
	c.rowHalves = true
	return &c
}

// WithControlDependencies returns a builder whose operations run only after
// ops have run.
func (b *Builder) WithControlDependencies(ops ...*tf.Operation) *Builder {
	c := *b
	c.s = b.s.WithControlDependencies(ops...)
	return &c
}

// Scope returns a fresh, uniquely named op.Scope under b for one generated
// op wrapper (the wrappers name every op after its type).
func (b *Builder) Scope(name string) *op.Scope { return b.s.SubScope(name) }

// Err returns the first error met while building, without the stack trace
// that op.Scope appends.
func (b *Builder) Err() error {
	if b.state.err != nil {
		return b.state.err
	}
	if err := b.s.Err(); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, " (Stacktrace:"); i >= 0 {
			msg = msg[:i]
		}
		return fmt.Errorf("build graph: %s", msg)
	}
	return nil
}

// fail records err as the builder's error if it is the first one.
// The op scope is poisoned too, so every later op wrapper becomes a no-op
// instead of adding an op with a missing input.
func (b *Builder) fail(format string, args ...any) {
	if b.state.err == nil && b.s.Err() == nil {
		b.state.err = fmt.Errorf("build graph: "+format, args...)
		b.s.UpdateErr("graph", b.state.err)
	}
}

// failed reports whether an error has been recorded.
func (b *Builder) failed() bool { return b.Err() != nil }

// Const adds a constant holding v (a Go scalar or slice, or a *tf.Tensor).
func (b *Builder) Const(v any) tf.Output { return tg.Const(b.s, v) }

// Scalar adds a scalar constant of the builder's dtype.
func (b *Builder) Scalar(v float64) tf.Output {
	if b.dtype == tf.Double {
		return b.Const(v)
	}
	return b.Const(float32(v))
}

// Cast converts x to dtype (a no-op when it already has it).
func (b *Builder) Cast(x tf.Output, dtype tf.DataType) tf.Output { return tg.Cast(b.s, x, dtype) }

// Placeholder adds a placeholder of the given dtype and shape (-1 for an
// unknown dimension), named name under b.
func (b *Builder) Placeholder(name string, dtype tf.DataType, shape ...int64) tf.Output {
	return b.add(tf.OpSpec{Type: "Placeholder", Name: name,
		Attrs: map[string]any{"dtype": dtype, "shape": tf.MakeShape(shape...)}})
}

// Identity adds an Identity op named name under b, to give a tensor a stable
// name (for signatures and fetches).
func (b *Builder) Identity(name string, x tf.Output) tf.Output {
	return b.add(tf.OpSpec{Type: "Identity", Name: name, Input: []tf.Input{x}})
}

// Group adds a NoOp named name under b that runs after ops.
func (b *Builder) Group(name string, ops ...*tf.Operation) *tf.Operation {
	return b.s.AddOperation(tf.OpSpec{Type: "NoOp", Name: name, ControlDependencies: ops})
}

// add adds an op named exactly spec.Name under b (a duplicate name is a
// build error) and returns its output 0.
func (b *Builder) add(spec tf.OpSpec) tf.Output {
	o := b.s.AddOperation(spec)
	if o == nil {
		return tf.Output{}
	}
	return o.Output(0)
}
