package cyclegan

import (
	"fmt"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// unet is the reference implementation's U-Net generator under g (its
// unet_128 / unet_256 with -unet-downs 7 / 8), applied to NHWC images in
// [-1, 1] of any size. It returns the last layer's channels, which
// generatorOutput turns into the image. Level i (0 is the outermost)
// halves the image with a 4x4 stride-2 conv to f(i) = ngf * min(2^i, 8)
// channels and doubles it back with a 4x4 stride-2 transposed conv, and
// every level but the outermost hands its input to its output through a
// skip connection:
//
//	down 0        4x4 conv s2 -> ngf (no norm)
//	down i        LeakyReLU 0.2, 4x4 conv s2 -> f(i), IN (none innermost)
//	up i          ReLU, 4x4 transposed conv s2 -> f(i-1), IN, concat skip
//	up 0          ReLU, 4x4 transposed conv s2 -> 3, tanh (generatorOutput)
//	              (with c.UNetHead: -> ngf, then unetHead)
//
// With c.Upsample "resize", each transposed conv is a nearest x2 resize and
// a 3x3 conv instead (no checkerboard).
//
// The skips carry the input's colours and detail past the bottleneck, so the
// network has only to change what differs between the domains. H and W must
// be multiples of 2^downs; generate resizes other sizes to the nearest ones.
func unet(g *graph.Builder, x tf.Output, c Config) tf.Output {
	return unetLevel(g, x, 0, c)
}

// unetHead is the last layer with c.UNetHead, at the input's own size: a
// 3x3 conv over the input image x and the ReLU of the U-Net's NGF output
// channels h (resized back to x's size), to the channels generatorOutput
// takes. Without it every output pixel comes from features of half the
// resolution, upsampled; the head sees the input's own pixels, so an edge the
// translation keeps (a face's outline, a collar) can stay where it is to the
// pixel, and so can the gate's boundary.
func unetHead(g *graph.Builder, x, h tf.Output, c Config) tf.Output {
	return g.Conv2D("head", g.ConcatChannels(x, g.ReLU(h)), graph.Conv{Filters: outChannels(c), Kernel: 3, Pad: 1, Reflect: true, Bias: true})
}

// unetFilters is f(i), the channels of level i's downsampled features.
func unetFilters(ngf, i int) int { return ngf * min(1<<i, 8) }

// unetLevel returns level i's output for its input h: the channels before
// the output activation for level 0 (see generatorOutput), otherwise the
// skip concatenated with the upsampled inner result.
func unetLevel(b *graph.Builder, h tf.Output, i int, c Config) tf.Output {
	l := b.Sub(fmt.Sprintf("level%d", i))
	innermost := i == c.UNetDowns-1
	d := h
	if i > 0 {
		d = l.LeakyReLU(d, 0.2)
	}
	d = l.Conv2D("down", d, graph.Conv{Filters: unetFilters(c.NGF, i), Kernel: 4, Stride: 2, Pad: 1, Bias: true})
	if i > 0 && !innermost {
		d = l.InstanceNorm("down_norm", d, false)
	}
	inner := d
	if !innermost {
		inner = unetLevel(l, d, i+1, c)
	}
	out := outChannels(c)
	if c.UNetHead {
		out = c.NGF
	}
	if i > 0 {
		out = unetFilters(c.NGF, i-1)
	}
	var u tf.Output
	if c.Upsample == "resize" {
		u = l.ResizeConv2D("up", l.ReLU(inner), graph.Conv{Filters: out, Kernel: 3, Stride: 2, Pad: 1, Reflect: true, Bias: true})
	} else {
		u = l.ConvTranspose2D("up", l.ReLU(inner), graph.Conv{Filters: out, Kernel: 4, Stride: 2, Bias: true})
	}
	if i == 0 {
		return u
	}
	return l.ConcatChannels(h, l.InstanceNorm("up_norm", u, false))
}
