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
// in, scaled to [-1, 1], translated (by the ResNet generator after padding by
// reflection to a multiple of 4, then cropped back; the U-Net takes any
// size), and returned as uint8 of the same shape.
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
		var y tf.Output
		if c.Generator == GeneratorUNet {
			// The U-Net takes any size (see generate).
			y = Generator(b, d.net, x, c)
		} else {
			padded, crop := s.Sub("pad").PadToMultiple(x, 4, "REFLECT")
			y = crop(Generator(b, d.net, padded, c))
		}
		out := s.Identity("output", toUint8(s.Sub("postprocess"), y))
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
