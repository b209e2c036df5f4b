package cyclegan

import (
	"slices"
	"testing"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

func TestParameterCountsEqualTheReference(t *testing.T) {
	// The reference implementation: ResNet-9 generator with ngf 64,
	// 11,378,179 parameters; 70x70 PatchGAN with ndf 64, 2,764,737. Both
	// use instance norm without affine parameters and conv biases.
	cases := []struct {
		name string
		c    func(c Config) Config
		g, d int64
	}{
		{"reference 9 blocks", func(c Config) Config { return c }, 11378179, 2764737},
		{"6 blocks", func(c Config) Config { c.Blocks = 6; return c }, 11378179 - 3*1180160, 2764737},
		{"resize upsampling", func(c Config) Config { c.Upsample = "resize"; return c }, 11378179, 2764737},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c(DefaultConfig())
			b := graph.NewBuilder(tf.Float, 1)
			x := b.Placeholder("x", tf.Float, 1, 256, 256, 3)
			Generator(b, "G", x, c)
			Discriminator(b, "D", x, c)
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			if got := graph.ParamCount(b.TrainableUnder("G")); got != tc.g {
				t.Errorf("generator has %d parameters, want %d", got, tc.g)
			}
			if got := graph.ParamCount(b.TrainableUnder("D")); got != tc.d {
				t.Errorf("discriminator has %d parameters, want %d", got, tc.d)
			}
		})
	}
}

func TestOutputShapes(t *testing.T) {
	c := DefaultConfig()
	c.NGF, c.NDF, c.Blocks = 8, 8, 2
	b := graph.NewBuilder(tf.Float, 1)
	x := b.Placeholder("x", tf.Float, -1, -1, -1, 3)
	g := Generator(b, "G", x, c)
	d := Discriminator(b, "D", x, c)
	sess, err := b.NewSession(graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Run(nil, nil, []*tf.Operation{b.InitOp("init", b.Variables())}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n, h, w      int64
		gridH, gridW int64
	}{
		{1, 256, 256, 30, 30}, // the paper's 70x70 PatchGAN grid
		{2, 64, 64, 6, 6},
		{1, 128, 96, 14, 10},
	} {
		in, _ := tf.NewTensor(make([]float32, tc.n*tc.h*tc.w*3))
		in.Reshape([]int64{tc.n, tc.h, tc.w, 3})
		out, err := sess.Run(map[tf.Output]*tf.Tensor{x: in}, []tf.Output{g, d}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := out[0].Shape(), []int64{tc.n, tc.h, tc.w, 3}; !slices.Equal(got, want) {
			t.Errorf("generator on %dx%d: shape %v, want %v", tc.h, tc.w, got, want)
		}
		if got, want := out[1].Shape(), []int64{tc.n, tc.gridH, tc.gridW, 1}; !slices.Equal(got, want) {
			t.Errorf("discriminator on %dx%d: grid %v, want %v", tc.h, tc.w, got, want)
		}
	}
}
