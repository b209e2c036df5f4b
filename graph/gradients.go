package graph

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	graphpb "github.com/galeone/tensorflow/tensorflow/go/core/framework/graph_go_proto"
	"google.golang.org/protobuf/proto"
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
	return addGradients(b.g, prefix, y, xs)
}

// addGradients adds d(y)/d(x) to g, refusing an x that y does not depend on.
func addGradients(g *tf.Graph, prefix string, y tf.Output, xs []tf.Output) ([]tf.Output, error) {
	grads, err := g.AddGradients(prefix, []tf.Output{y}, xs, nil)
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

// GradientsOn is Gradients with the added ops placed on device (a tower's
// device in data-parallel training); "" leaves them unplaced, as Gradients
// does. TF_AddGradients places nothing, so the gradients are built in a
// scratch copy of the graph and their NodeDefs imported back with device
// set, their inputs from the forward pass mapped to this graph's outputs.
func (b *Builder) GradientsOn(prefix, device string, y tf.Output, vars []*Variable) ([]tf.Output, error) {
	if device == "" {
		return b.Gradients(prefix, y, vars)
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	fail := func(err error) ([]tf.Output, error) {
		return nil, fmt.Errorf("gradients %s on %s: %w", prefix, device, err)
	}
	var buf bytes.Buffer
	if _, err := b.g.WriteTo(&buf); err != nil {
		return fail(err)
	}
	scratch := tf.NewGraph()
	if err := scratch.Import(buf.Bytes(), ""); err != nil {
		return fail(err)
	}
	in := func(o tf.Output) tf.Output { return scratch.Operation(o.Op.Name()).Output(o.Index) }
	xs := make([]tf.Output, len(vars))
	for i, v := range vars {
		xs[i] = in(v.Read)
	}
	grads, err := addGradients(scratch, prefix, in(y), xs)
	if err != nil {
		return nil, err
	}
	buf.Reset()
	if _, err := scratch.WriteTo(&buf); err != nil {
		return fail(err)
	}
	var def graphpb.GraphDef
	if err := proto.Unmarshal(buf.Bytes(), &def); err != nil {
		return fail(err)
	}
	added := &graphpb.GraphDef{Versions: def.Versions}
	own := map[string]bool{}
	for _, n := range def.Node {
		if b.g.Operation(n.Name) == nil {
			n.Device = device
			added.Node = append(added.Node, n)
			own[n.Name] = true
		}
	}
	opts := tf.GraphImportOptions{}
	for _, n := range added.Node {
		for _, input := range n.Input {
			if strings.HasPrefix(input, "^") {
				if !own[input[1:]] {
					return fail(fmt.Errorf("node %s has a control input from the forward graph (%s), which import cannot map", n.Name, input))
				}
				continue
			}
			name, index := input, 0
			if i := strings.LastIndexByte(input, ':'); i >= 0 {
				if index, err = strconv.Atoi(input[i+1:]); err != nil {
					return fail(fmt.Errorf("node %s: input %q", n.Name, input))
				}
				name = input[:i]
			}
			if !own[name] {
				opts.AddInputMapping(name, index, b.g.Operation(name).Output(index))
			}
		}
	}
	data, err := proto.Marshal(added)
	if err != nil {
		return fail(err)
	}
	if err := b.g.ImportWithOptions(data, opts); err != nil {
		return fail(err)
	}
	out := make([]tf.Output, len(grads))
	for i, g := range grads {
		op := b.g.Operation(g.Op.Name())
		if op == nil {
			return fail(fmt.Errorf("gradient %s missing after import", g.Op.Name()))
		}
		out[i] = op.Output(g.Index)
	}
	return out, nil
}
