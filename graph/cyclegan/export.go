package cyclegan

import (
	"fmt"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// Signature names of the exported SavedModel.
const (
	SigWoman2Man = "woman2man" // F
	SigMan2Woman = "man2woman" // G
	SigDefault   = "serving_default"
	// IOKey is the input and output key of every signature: uint8 images,
	// [N, H, W, 3], any H and W of at least MinSide.
	IOKey = "images"
)

// MinSide is the smallest height and width the serving graph takes: after
// padding to a multiple of 4 and two stride-2 convolutions, the residual
// blocks' reflection padding needs at least 2 pixels.
const MinSide = 8

// InferenceGraph builds the serving graph: for each direction, uint8 images
// in, scaled to [-1, 1], padded by reflection to a multiple of 4, translated,
// cropped back, and returned as uint8 of the same shape.
func InferenceGraph(c Config) (*graph.Builder, []graph.Signature, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	root := graph.NewBuilder(tf.Float, 0)
	b := root.WithDevice(c.Device)
	var sigs []graph.Signature
	for _, d := range []struct{ sig, net string }{{SigWoman2Man, NameF}, {SigMan2Woman, NameG}} {
		s := b.Sub(d.sig)
		in := s.Placeholder(IOKey, tf.Uint8, -1, -1, -1, 3)
		x := toModelRange(s.Sub("preprocess"), in)
		padded, crop := padToMultiple(s.Sub("pad"), x, 4)
		y := Generator(b, d.net, padded, c)
		out := s.Identity("output", toUint8(s.Sub("postprocess"), crop(y)))
		sigs = append(sigs, graph.Signature{Key: d.sig,
			Inputs: map[string]tf.Output{IOKey: in}, Outputs: map[string]tf.Output{IOKey: out}})
	}
	def := sigs[0]
	def.Key = SigDefault
	sigs = append(sigs, def)
	if err := root.Err(); err != nil {
		return nil, nil, err
	}
	return root, sigs, nil
}

// Export writes the SavedModel of the generators to dir, with the trained
// values (by variable name, as graph.Values returns them).
func Export(dir string, c Config, values map[string]*tf.Tensor) error {
	b, sigs, err := InferenceGraph(c)
	if err != nil {
		return fmt.Errorf("export %s: %w", dir, err)
	}
	return graph.ExportSavedModel(dir, b, b.Variables(), sigs, values)
}

// toModelRange maps uint8 [0, 255] to float [-1, 1].
func toModelRange(b *graph.Builder, x tf.Output) tf.Output {
	s := b.Scope("scale")
	f := op.Cast(s, x, tf.Float)
	return op.Sub(s, op.Mul(s, f, b.Scalar(1/127.5)), b.Scalar(1))
}

// toUint8 maps [-1, 1] back to uint8, rounding and clipping.
func toUint8(b *graph.Builder, y tf.Output) tf.Output {
	s := b.Scope("scale")
	v := op.Round(s, op.Mul(s, op.Add(s, y, b.Scalar(1)), b.Scalar(127.5)))
	v = op.ClipByValue(s, v, b.Scalar(0), b.Scalar(255))
	return op.Cast(s, v, tf.Uint8)
}

// padToMultiple pads H and W of NHWC x at the bottom and right by reflection
// up to multiples of m, and returns a function that crops a same-sized
// result back to x's H and W.
func padToMultiple(b *graph.Builder, x tf.Output, m int32) (tf.Output, func(tf.Output) tf.Output) {
	s := b.Scope("amount")
	shape := op.Shape(s, x, op.ShapeOutType(tf.Int32))
	hw := op.Slice(s.SubScope("hw"), shape, op.Const(s.SubScope("begin"), []int32{1}), op.Const(s.SubScope("size"), []int32{2}))
	mc := op.Const(s.SubScope("m"), m)
	extra := op.FloorMod(s, op.Sub(s, mc, op.FloorMod(s.SubScope("rem"), hw, mc)), mc) // [ph, pw]
	zeros := op.Const(s.SubScope("zeros"), []int32{0, 0})
	// paddings [[0,0],[0,ph],[0,pw],[0,0]]
	mid := op.Pack(s.SubScope("mid"), []tf.Output{zeros, extra}, op.PackAxis(1))
	pads := op.ConcatV2(s, []tf.Output{
		op.Const(s.SubScope("n"), [][]int32{{0, 0}}), mid, op.Const(s.SubScope("c"), [][]int32{{0, 0}}),
	}, op.Const(s.SubScope("axis"), int32(0)))
	padded := op.MirrorPad(b.Scope("mirror"), x, pads, "REFLECT")
	// The paddings are computed, so shape inference loses the channels.
	padded = op.EnsureShape(b.Scope("channels"), padded, tf.MakeShape(-1, -1, -1, 3))
	crop := func(y tf.Output) tf.Output {
		c := b.Scope("crop")
		size := op.ConcatV2(c, []tf.Output{
			op.Const(c.SubScope("n"), []int32{-1}), hw, op.Const(c.SubScope("c"), []int32{-1}),
		}, op.Const(c.SubScope("axis"), int32(0)))
		return op.Slice(c, y, op.Const(c.SubScope("begin"), []int32{0, 0, 0, 0}), size)
	}
	return padded, crop
}
