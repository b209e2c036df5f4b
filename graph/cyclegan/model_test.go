package cyclegan

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"cyclegan/graph"
	"cyclegan/internal/tfrt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
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
		// The reference's unet_256 (8 levels) has 54,413,955 parameters
		// with its default batch norm: no conv biases but the outermost
		// one's, and a scale and offset per normalized channel. With
		// instance norm (no affine, biases everywhere) that is
		// 54,413,955 - 3 + 5,507 biases - 2 * 4,928 norm channels.
		{"U-Net 256", func(c Config) Config { c.Generator = GeneratorUNet; return c }, 54413955 - 3 + 5507 - 2*4928, 2764737},
		// The head: the outermost transposed conv (4x4, from the 2 x 64
		// channels of level 1) gives 64 channels instead of 3, and a 3x3
		// conv takes those and the image's 3 to 3.
		{"U-Net 256 with its head", func(c Config) Config { c.Generator, c.UNetHead = GeneratorUNet, true; return c },
			54413955 - 3 + 5507 - 2*4928 + (4*4*128+1)*(64-3) + 3*3*(64+3)*3 + 3, 2764737},
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
	unet := c
	unet.Generator, unet.UNetDowns = GeneratorUNet, 4
	u := Generator(b, "U", x, unet)
	sess := initializedSession(t, b)
	for _, tc := range []struct {
		n, h, w      int64
		gridH, gridW int64
	}{
		{1, 256, 256, 30, 30}, // the paper's 70x70 PatchGAN grid
		{2, 64, 64, 6, 6},
		{1, 128, 96, 14, 10},
		// U-Net only (the ResNet generator wants multiples of 4; the
		// serving graph pads for it): odd sides at several levels
		// (37 -> 18 -> 9 -> 4 -> 2), and sides below 2^levels.
		{1, 37, 45, 0, 0},
		{1, 8, 12, 0, 0},
	} {
		in, _ := tf.NewTensor(make([]float32, tc.n*tc.h*tc.w*3))
		in.Reshape([]int64{tc.n, tc.h, tc.w, 3})
		fetch := []tf.Output{g, d, u}
		if tc.gridH == 0 {
			fetch = []tf.Output{u}
		}
		out, err := sess.Run(map[tf.Output]*tf.Tensor{x: in}, fetch, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := out[len(out)-1].Shape(), []int64{tc.n, tc.h, tc.w, 3}; !slices.Equal(got, want) {
			t.Errorf("U-Net generator on %dx%d: shape %v, want %v", tc.h, tc.w, got, want)
		}
		if tc.gridH == 0 {
			continue
		}
		if got, want := out[0].Shape(), []int64{tc.n, tc.h, tc.w, 3}; !slices.Equal(got, want) {
			t.Errorf("generator on %dx%d: shape %v, want %v", tc.h, tc.w, got, want)
		}
		if got, want := out[1].Shape(), []int64{tc.n, tc.gridH, tc.gridW, 1}; !slices.Equal(got, want) {
			t.Errorf("discriminator on %dx%d: grid %v, want %v", tc.h, tc.w, got, want)
		}
	}
}

func TestCyclePassesRunAsRowHalvesExactlyAtOneImageATowerUnderOneDNN(t *testing.T) {
	c := DefaultConfig()
	c.NGF, c.NDF, c.Blocks = 8, 8, 2
	// Per generator: the 7x7 convolutions at both ends, two downsampling
	// ones and two per residual block; the cycle pass of G and of F.
	all := 2 * (2 + 2 + 2*c.Blocks)
	for _, tc := range []struct {
		name   string
		n      int64
		towers []string
		halved bool
	}{
		{"batch unknown", -1, nil, true},
		{"batch 1", 1, nil, true},
		{"batch 2", 2, nil, false},
		{"batch 4", 4, nil, false},
		{"batch 2 on two towers", 2, []string{cpu0, cpu1}, true},
		{"batch 4 on two towers", 4, []string{cpu0, cpu1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := c
			c.Towers = tc.towers
			s, err := NewStep(c, tc.n, 32, 1)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if tc.halved && tfrt.OneDNNEnabled() {
				want = all * max(1, len(tc.towers))
			}
			halved := 0
			for _, o := range s.B.Graph().Operations() {
				if o.Type() == "ConcatV2" && strings.Contains(o.Name(), "row_halves/stack") { // one per halved convolution
					halved++
				}
			}
			if halved != want {
				t.Errorf("%d convolutions run as row halves (oneDNN on: %v), want %d", halved, tfrt.OneDNNEnabled(), want)
			}
		})
	}
}

// Images too small for the discriminator's layers (16x16 leaves its last
// 4x4 conv a 3x3 input) give an error naming the layer, not a panic.
func TestStepOnImagesTooSmallForTheDiscriminatorFails(t *testing.T) {
	_, err := NewStep(tinyConfig(), 2, 16, 1)
	if err == nil || !strings.Contains(err.Error(), "D_woman/patch") {
		t.Fatalf("NewStep at 16x16: error %v, want one naming D_woman/patch", err)
	}
}

// The gated U-Net runs at the nearest multiple of 2^downs and its last
// layer's channels come back to the input's size, so the blend, and with it
// every pixel a shut gate keeps, is at the input's own resolution.
func TestGatedUNetKeepsShutPixelsExactlyAtSizesItResizes(t *testing.T) {
	c := DefaultConfig()
	c.Generator, c.UNetDowns, c.NGF, c.Gate, c.Upsample = GeneratorUNet, 4, 8, true, "resize"
	b := graph.NewBuilder(tf.Float, 1)
	x := b.Placeholder("x", tf.Float, -1, -1, -1, 3)
	y := Generator(b, "G", x, c)
	gateBias := variableNamed(t, b, "G/level0/up/bias")
	// The last of the four output channels is the gate's logit.
	shut := op.AssignVariableOp(b.Scope("shut"), gateBias.Handle, b.Const([]float32{0, 0, 0, -60}))
	sess := initializedSession(t, b)
	if _, err := sess.Run(nil, nil, []*tf.Operation{shut}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range [][2]int{{70, 70}, {35, 45}, {32, 48}} {
		h, w := size[0], size[1]
		in, got := runOnRandomImage(t, sess, x, y, r, h, w)
		for i := range h {
			for j := range w {
				for k := range 3 {
					if g, want := got[i][j][k], in[(i*w+j)*3+k]; g != want {
						t.Fatalf("%dx%d: pixel (%d, %d) channel %d = %g through a shut gate, want the input's %g", h, w, i, j, k, g, want)
					}
				}
			}
		}
	}
}

// The head's 3x3 conv sees the input image at its own size, whatever size
// the U-Net behind it runs at: with its kernel's centre taps passing each
// input channel to its output channel and nothing from the U-Net, the
// generator returns tanh of the input, pixel for pixel. Without the head,
// every output pixel is drawn from features of half the resolution.
func TestUNetHeadPassesTheInputsOwnPixels(t *testing.T) {
	c := DefaultConfig()
	c.Generator, c.UNetDowns, c.NGF, c.UNetHead = GeneratorUNet, 4, 8, true
	b := graph.NewBuilder(tf.Float, 1)
	x := b.Placeholder("x", tf.Float, -1, -1, -1, 3)
	y := Generator(b, "G", x, c)
	kernel, bias := variableNamed(t, b, "G/head/kernel"), variableNamed(t, b, "G/head/bias")
	// [3, 3, in, out]: in is the image's 3 channels, then the U-Net's 8.
	k := make([][][][]float32, 3)
	for i := range k {
		k[i] = make([][][]float32, 3)
		for j := range k[i] {
			k[i][j] = make([][]float32, 3+c.NGF)
			for in := range k[i][j] {
				k[i][j][in] = make([]float32, 3)
				if i == 1 && j == 1 && in < 3 {
					k[i][j][in][in] = 1
				}
			}
		}
	}
	set := []*tf.Operation{
		op.AssignVariableOp(b.Scope("identity_kernel"), kernel.Handle, b.Const(k)),
		op.AssignVariableOp(b.Scope("zero_bias"), bias.Handle, b.Const([]float32{0, 0, 0})),
	}
	sess := initializedSession(t, b)
	if _, err := sess.Run(nil, nil, set); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, size := range [][2]int{{64, 64}, {70, 70}, {35, 45}} {
		h, w := size[0], size[1]
		in, got := runOnRandomImage(t, sess, x, y, r, h, w)
		for i := range h {
			for j := range w {
				for ch := range 3 {
					want := math.Tanh(float64(in[(i*w+j)*3+ch]))
					if d := math.Abs(float64(got[i][j][ch]) - want); d > 1e-6 {
						t.Fatalf("%dx%d: pixel (%d, %d) channel %d = %g, want tanh of the input's pixel, %g", h, w, i, j, ch, got[i][j][ch], want)
					}
				}
			}
		}
	}
}

// variableNamed returns b's variable of that name, or fails the test.
func variableNamed(t *testing.T, b *graph.Builder, name string) *graph.Variable {
	t.Helper()
	for _, v := range b.Variables() {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no variable %s", name)
	return nil
}

// runOnRandomImage feeds x one h x w image of values uniform in [-1, 1)
// drawn from r and returns it (flat, HWC) with y's output for it.
func runOnRandomImage(t *testing.T, sess *tf.Session, x, y tf.Output, r *rand.Rand, h, w int) (in []float32, out [][][]float32) {
	t.Helper()
	in = make([]float32, h*w*3)
	for i := range in {
		in[i] = float32(r.Float64()*2 - 1)
	}
	xt, err := tf.NewTensor(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := xt.Reshape([]int64{1, int64(h), int64(w), 3}); err != nil {
		t.Fatal(err)
	}
	res, err := sess.Run(map[tf.Output]*tf.Tensor{x: xt}, []tf.Output{y}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in, res[0].Value().([][][][]float32)[0]
}

// initializedSession opens a session on b's graph, closed when the test
// ends, and runs the initializers of all of b's variables.
func initializedSession(t *testing.T, b *graph.Builder) *tf.Session {
	t.Helper()
	sess, err := b.NewSession(graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	if _, err := sess.Run(nil, nil, []*tf.Operation{b.InitOp("init", b.Variables())}); err != nil {
		t.Fatal(err)
	}
	return sess
}
