package cyclegan

import (
	"fmt"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// Discriminator is the PatchGAN: a conv net whose output is a grid of
// real/fake logits, one per overlapping patch. With DLayers 3 it is the
// paper's 70x70 PatchGAN, C64-C128-C256-C512 then a conv to 1 channel, whose
// grid is 30x30 for a 256x256 input and which has 2,764,737 parameters at
// ndf 64 (a bias in every conv, no learned norm scale, as the reference).
//
//	C(ndf)      4x4 conv stride 2, LeakyReLU 0.2 (no norm)
//	C(2ndf)..   4x4 conv stride 2, IN, LeakyReLU 0.2  (DLayers-1 of them)
//	C(8ndf max) 4x4 conv stride 1, IN, LeakyReLU 0.2
//	C1          4x4 conv stride 1 to one channel
//
// Every conv pads 1 with zeros, as the reference does.
func Discriminator(b *graph.Builder, name string, x tf.Output, c Config) tf.Output {
	d := b.Sub(name)
	conv := func(filters, stride int) graph.Conv {
		return graph.Conv{Filters: filters, Kernel: 4, Stride: stride, Pad: 1, Bias: true}
	}
	h := d.LeakyReLU(d.Conv2D("c1", x, conv(c.NDF, 2)), 0.2)
	mult := 1
	for n := 1; n <= c.DLayers; n++ {
		mult = min(1<<n, 8)
		stride := 2
		if n == c.DLayers {
			stride = 1
		}
		l := fmt.Sprintf("c%d", n+1)
		h = d.Conv2D(l, h, conv(c.NDF*mult, stride))
		h = d.LeakyReLU(d.InstanceNorm(l+"_norm", h, false), 0.2)
	}
	return d.Conv2D("patch", h, conv(1, 1))
}
