package main

import "cyclegan/graph/cyclegan"

// The analytic FLOP count of one training step, from the layer shapes of
// graph/cyclegan (generator.go, discriminator.go, model.go).
//
// A convolution's forward pass costs 2 FLOPs (a multiply and an add) per
// multiply-accumulate: 2 * k*k * Cin * Cout * Hout * Wout. A transposed
// convolution (Conv2DBackpropInput) scatters each input pixel through the
// kernel: 2 * k*k * Cin * Cout * Hin * Win. Biases, norms, activations,
// losses and Adam are left out (well under 1% of the total at every
// config). The backward pass of a layer costs about twice its forward pass
// (the gradients for its input and for its weights), so a network trained
// on an image costs 3x its forward pass.
//
// One step (model.go) runs each generator on 3 images (translation and
// identity stacked, then the cycle) and each discriminator on 3 (this
// step's fake, the real faces, the pool's pick), and back-propagates
// through all of them:
//
//	step = 3 * (6 * G_forward + 6 * D_forward)     (batch 1)
//
// At 256x256, ngf 64, 9 blocks, the generator's forward pass is 49.6
// GMACs; counting its two transposed convolutions at their output
// resolution instead, as some profilers do, gives the 56.8 GMACs often
// quoted for it.

// convMACs is the multiply-accumulates of a k x k convolution from cin to
// cout channels producing an h x w output.
func convMACs(k, cin, cout, h, w int) float64 {
	return float64(k) * float64(k) * float64(cin) * float64(cout) * float64(h) * float64(w)
}

// generatorMACs is one image's forward pass through Generator at size x size.
func generatorMACs(c cyclegan.Config, size int) float64 {
	n := c.NGF
	s2, s4 := size/2, size/4
	m := convMACs(7, 3, n, size, size) + // c7s1
		convMACs(3, n, 2*n, s2, s2) + // down1
		convMACs(3, 2*n, 4*n, s4, s4) + // down2
		float64(c.Blocks)*2*convMACs(3, 4*n, 4*n, s4, s4) + // residual blocks
		convMACs(7, n, 3, size, size) // out
	if c.Upsample == "resize" { // a conv at the upsampled size
		m += convMACs(3, 4*n, 2*n, s2, s2) + convMACs(3, 2*n, n, size, size)
	} else { // transposed: per input pixel
		m += convMACs(3, 4*n, 2*n, s4, s4) + convMACs(3, 2*n, n, s2, s2)
	}
	return m
}

// discriminatorMACs is one image's forward pass through Discriminator at
// size x size: 4x4 convolutions with zero padding 1.
func discriminatorMACs(c cyclegan.Config, size int) float64 {
	out := func(in, stride int) int { return (in+2-4)/stride + 1 }
	h := out(size, 2)
	m := convMACs(4, 3, c.NDF, h, h)
	cin := c.NDF
	for n := 1; n <= c.DLayers; n++ {
		stride := 2
		if n == c.DLayers {
			stride = 1
		}
		cout := c.NDF * min(1<<n, 8)
		h = out(h, stride)
		m += convMACs(4, cin, cout, h, h)
		cin = cout
	}
	h = out(h, 1)
	return m + convMACs(4, cin, 1, h, h)
}

// stepFLOPs is one training step's FLOPs at batch 1.
func stepFLOPs(c cyclegan.Config, size int) float64 {
	return 2 * 3 * (6*generatorMACs(c, size) + 6*discriminatorMACs(c, size))
}
