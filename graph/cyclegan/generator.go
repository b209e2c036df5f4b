package cyclegan

import (
	"fmt"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// Generator builds the generator c.Generator names (the ResNet one or the
// U-Net) under name. Building it again under the same name applies the same
// weights.
func Generator(b *graph.Builder, name string, x tf.Output, c Config) tf.Output {
	y, _ := generate(b, name, x, c)
	return y
}

// generate is Generator that also returns the gate m with c.Gate (see
// generatorOutput; the zero Output otherwise), for the gate-area penalty.
func generate(b *graph.Builder, name string, x tf.Output, c Config) (y, m tf.Output) {
	g := b.Sub(name)
	if c.Generator == GeneratorUNet {
		// The U-Net runs at the nearest multiple of its 2^downs (a no-op
		// for the training faces, whose size is one), and everything after
		// it at the input's own size: its last layer's channels are resized
		// back, so a gate still passes every pixel it shuts through
		// untouched, and c.UNetHead's conv sees the input's own pixels. On
		// the default run's 70x70 test faces the U-Net otherwise pads odd
		// sides at four of its six levels, a geometry it never saw in
		// training at 64x64.
		small, back := g.Sub("fit").ResizeToMultiple(x, 1<<c.UNetDowns)
		h := back(unet(g, small, c))
		if c.UNetHead {
			h = unetHead(g, x, h, c)
		}
		return generatorOutput(g, x, h, c)
	}
	return generatorOutput(g, x, resnet(g, x, c), c)
}

// resnet is the paper's ResNet generator under g, applied to NHWC images in
// [-1, 1]; H and W must be multiples of 4. It returns the last layer's
// channels, which generatorOutput turns into the image. With ngf 64 and 9
// blocks it has 11,378,179 parameters, as the reference implementation:
// instance norm without a learned scale and offset, and a bias in every
// convolution.
//
//	c7s1-ngf   reflect pad 3, 7x7 conv, IN, ReLU
//	d(2ngf)    3x3 conv stride 2, IN, ReLU
//	d(4ngf)    3x3 conv stride 2, IN, ReLU
//	R(4ngf)*N  residual blocks
//	u(2ngf)    3x3 transposed conv stride 2 (or resize + conv), IN, ReLU
//	u(ngf)     3x3 transposed conv stride 2 (or resize + conv), IN, ReLU
//	c7s1-3     reflect pad 3, 7x7 conv, tanh (generatorOutput)
func resnet(g *graph.Builder, x tf.Output, c Config) tf.Output {
	ngf := c.NGF

	h := g.Conv2D("c7s1", x, graph.Conv{Filters: ngf, Kernel: 7, Pad: 3, Reflect: true, Bias: true})
	h = g.ReLU(g.InstanceNorm("c7s1_norm", h, false))

	for i, f := range []int{2 * ngf, 4 * ngf} {
		l := fmt.Sprintf("down%d", i+1)
		h = g.Conv2D(l, h, graph.Conv{Filters: f, Kernel: 3, Stride: 2, Pad: 1, Bias: true})
		h = g.ReLU(g.InstanceNorm(l+"_norm", h, false))
	}

	for i := 0; i < c.Blocks; i++ {
		h = residualBlock(g, fmt.Sprintf("res%d", i+1), h, 4*ngf)
	}

	for i, f := range []int{2 * ngf, ngf} {
		l := fmt.Sprintf("up%d", i+1)
		up := graph.Conv{Filters: f, Kernel: 3, Stride: 2, Bias: true}
		if c.Upsample == "resize" {
			h = g.ResizeConv2D(l, h, up)
		} else {
			h = g.ConvTranspose2D(l, h, up)
		}
		h = g.ReLU(g.InstanceNorm(l+"_norm", h, false))
	}

	return g.Conv2D("out", h, graph.Conv{Filters: outChannels(c), Kernel: 7, Pad: 3, Reflect: true, Bias: true})
}

// residualLimit bounds the input image of a residual generator's output
// (see graph.Builder.ResidualTanh).
const residualLimit = 0.999

// generatorOutput turns the last layer's channels h into the generated
// image in [-1, 1]: tanh(h), the paper's; or, with c.Residual,
// tanh(atanh(x) + h) for the generator's input x, so that h = 0 returns x
// unchanged and the network learns only what to change, as in Shen and
// Liu's residual image learning for face attributes (CVPR 2017). Every
// pixel the translation should keep (background, skin, eyes) then starts
// right instead of having to be rebuilt through the whole network.
//
// With c.Gate, h has a fourth channel: the logit of a gate m in (0, 1) per
// pixel, and the output is x + m * (y - x) for the image y the first three
// give. A pixel whose gate is shut (a sigmoid well into saturation) is the
// input's, whatever noise the other channels carry; attention-guided
// translation, as in Mejjati et al. (NeurIPS 2018). It returns the image
// and, with c.Gate, m (the zero Output otherwise).
func generatorOutput(b *graph.Builder, x, h tf.Output, c Config) (out, m tf.Output) {
	var gate tf.Output
	if c.Gate {
		h, gate = b.SplitLastChannel(h)
	}
	var y tf.Output
	if c.Residual {
		y = b.ResidualTanh(x, h, residualLimit)
	} else {
		y = b.Tanh(h)
	}
	if !c.Gate {
		return y, tf.Output{}
	}
	m = b.Sigmoid(gate)
	return b.Blend(x, y, m), m
}

// outChannels is how many channels a generator's last layer gives
// generatorOutput: the image's 3, and the gate's logit with c.Gate.
func outChannels(c Config) int {
	if c.Gate {
		return 4
	}
	return 3
}

// residualBlock is R-k: reflect pad, 3x3 conv, IN, ReLU, reflect pad, 3x3
// conv, IN, plus the input.
func residualBlock(b *graph.Builder, name string, x tf.Output, k int) tf.Output {
	r := b.Sub(name)
	conv := graph.Conv{Filters: k, Kernel: 3, Pad: 1, Reflect: true, Bias: true}
	h := r.Conv2D("conv1", x, conv)
	h = r.ReLU(r.InstanceNorm("norm1", h, false))
	h = r.Conv2D("conv2", h, conv)
	h = r.InstanceNorm("norm2", h, false)
	return r.Add(x, h)
}
