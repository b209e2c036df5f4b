package main

import (
	"math"
	"testing"

	"cyclegan/graph/cyclegan"
)

func TestFLOPCountMatchesTheLayerShapesOfTheReferenceModel(t *testing.T) {
	c := cyclegan.DefaultConfig() // 256x256, ngf 64, 9 blocks, ndf 64, 3 layers
	// By hand: c7s1, down1, down2, 9 blocks of two convs, up1 and up2
	// (transposed: per input pixel), out.
	g := 49.0*3*64*256*256 + 9.0*64*128*128*128 + 9.0*128*256*64*64 + 18*9.0*256*256*64*64 +
		9.0*256*128*64*64 + 9.0*128*64*128*128 + 49.0*64*3*256*256
	if got := generatorMACs(c, 256); got != g {
		t.Errorf("generator: %.0f MACs, want %.0f", got, g)
	}
	// With resize-convolutions the two up layers run at the output size:
	// the 56.8 GMACs commonly quoted for this generator.
	c.Upsample = "resize"
	if got := generatorMACs(c, 256) / 1e9; math.Abs(got-56.8) > 0.05 {
		t.Errorf("generator at output-size upsampling: %.2f GMACs, want 56.8", got)
	}
	c.Upsample = "transpose"
	// PatchGAN: 128, 64, 32 (stride 2), then 31 and 30 (stride 1, pad 1, 4x4).
	d := 16.0*3*64*128*128 + 16.0*64*128*64*64 + 16.0*128*256*32*32 + 16.0*256*512*31*31 + 16.0*512*1*30*30
	if got := discriminatorMACs(c, 256); got != d {
		t.Errorf("discriminator: %.0f MACs, want %.0f", got, d)
	}
	if got, want := stepFLOPs(c, 256), 2*3*6*(g+d); got != want {
		t.Errorf("step: %.4g FLOPs, want %.4g", got, want)
	}
}
