package graph

import (
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// The finite-difference checks run in float64: every op used here has a
// double CPU kernel, so central differences with h = 1e-6 agree with the
// analytic gradient to about 1e-9, and a wrong gradient (a missing term, a
// transposed kernel, a wrong sign) is off by orders of magnitude more.
const (
	fdStep   = 1e-6
	fdAbsTol = 1e-6
	fdRelTol = 1e-5
	fdProbes = 12 // elements probed per tensor
)

func TestLayerAndLossGradientsMatchFiniteDifferences(t *testing.T) {
	target := func(b *Builder, shape ...int64) tf.Output {
		r := rand.New(rand.NewSource(99))
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Float64()*2 - 1
		}
		return op.Reshape(b.Scope("target"), b.Const(v), b.Const(shape))
	}
	cases := []struct {
		name  string
		shape []int64
		f     func(b *Builder, x tf.Output) tf.Output
	}{
		{"conv3x3 reflect pad, bias", []int64{2, 5, 6, 3}, func(b *Builder, x tf.Output) tf.Output {
			return b.Conv2D("c", x, Conv{Filters: 4, Kernel: 3, Pad: 1, Reflect: true, Bias: true, Init: Normal(0, 0.5)})
		}},
		{"conv7x7 reflect pad (c7s1)", []int64{1, 8, 8, 2}, func(b *Builder, x tf.Output) tf.Output {
			return b.Conv2D("c", x, Conv{Filters: 3, Kernel: 7, Pad: 3, Reflect: true, Bias: true, Init: Normal(0, 0.3)})
		}},
		{"conv4x4 stride 2 zero pad (PatchGAN)", []int64{1, 8, 7, 2}, func(b *Builder, x tf.Output) tf.Output {
			return b.Conv2D("c", x, Conv{Filters: 3, Kernel: 4, Stride: 2, Pad: 1, Bias: true, Init: Normal(0, 0.5)})
		}},
		{"conv3x3 stride 2 no pad", []int64{1, 7, 7, 2}, func(b *Builder, x tf.Output) tf.Output {
			return b.Conv2D("c", x, Conv{Filters: 2, Kernel: 3, Stride: 2, Init: Normal(0, 0.5)})
		}},
		{"transposed conv stride 2", []int64{2, 3, 4, 3}, func(b *Builder, x tf.Output) tf.Output {
			return b.ConvTranspose2D("u", x, Conv{Filters: 2, Kernel: 3, Stride: 2, Bias: true, Init: Normal(0, 0.5)})
		}},
		{"nearest resize then conv", []int64{1, 3, 4, 3}, func(b *Builder, x tf.Output) tf.Output {
			return b.ResizeConv2D("u", x, Conv{Filters: 2, Kernel: 3, Stride: 2, Bias: true, Init: Normal(0, 0.5)})
		}},
		// InstanceNorm runs as FusedBatchNormV3, which has no double
		// kernel: its definition is checked here, and
		// TestInstanceNormEqualsItsDefinition holds the fused op to it.
		{"instance norm, by its definition", []int64{2, 4, 5, 3}, func(b *Builder, x tf.Output) tf.Output {
			return instanceNormDefinition(b, x)
		}},
		{"relu", []int64{2, 3, 3, 2}, func(b *Builder, x tf.Output) tf.Output { return b.ReLU(x) }},
		{"leaky relu 0.2", []int64{2, 3, 3, 2}, func(b *Builder, x tf.Output) tf.Output { return b.LeakyReLU(x, 0.2) }},
		{"tanh", []int64{2, 3, 3, 2}, func(b *Builder, x tf.Output) tf.Output { return b.Tanh(x) }},
		// x in (-0.9, 0.9), inside the clip: the gradient through atanh.
		{"residual tanh, by the image", []int64{2, 3, 3, 2}, func(b *Builder, x tf.Output) tf.Output {
			return b.ResidualTanh(b.Scale(x, 0.9), target(b, 2, 3, 3, 2), 0.999)
		}},
		{"residual tanh, by the change", []int64{2, 3, 3, 2}, func(b *Builder, x tf.Output) tf.Output {
			return b.ResidualTanh(target(b, 2, 3, 3, 2), b.Scale(x, 3), 0.999)
		}},
		{"sigmoid", []int64{2, 3, 3, 2}, func(b *Builder, x tf.Output) tf.Output { return b.Sigmoid(b.Scale(x, 3)) }},
		// The gated generator output: the last channel gates the rest.
		{"blend through a one-channel gate, by the image and the gate", []int64{2, 3, 3, 4}, func(b *Builder, x tf.Output) tf.Output {
			y, m := b.SplitLastChannel(x)
			return b.Blend(target(b, 2, 3, 3, 3), y, b.Sigmoid(b.Scale(m, 3)))
		}},
		{"blend through a one-channel gate, by the input", []int64{2, 3, 3, 3}, func(b *Builder, x tf.Output) tf.Output {
			return b.Blend(x, target(b, 2, 3, 3, 3), b.Sigmoid(target(b, 2, 3, 3, 1)))
		}},
		{"BCE with logits, real", []int64{2, 3, 3, 1}, func(b *Builder, x tf.Output) tf.Output { return b.BCEWithLogits(x, 1) }},
		{"BCE with logits, fake", []int64{2, 3, 3, 1}, func(b *Builder, x tf.Output) tf.Output { return b.BCEWithLogits(b.Scale(x, 8), 0) }},
		{"L1", []int64{2, 3, 4, 3}, func(b *Builder, x tf.Output) tf.Output { return b.L1(x, target(b, 2, 3, 4, 3)) }},
		{"L2", []int64{2, 3, 4, 3}, func(b *Builder, x tf.Output) tf.Output { return b.L2(x, target(b, 2, 3, 4, 3)) }},
		{"MSE to label (LSGAN)", []int64{2, 3, 3, 1}, func(b *Builder, x tf.Output) tf.Output { return b.MSEToLabel(x, 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkGradients(t, tc.shape, tc.f)
		})
	}
}

// checkGradients compares the registry's gradients of sum(f(x) * w), for a
// fixed random w, with central differences, with respect to x and to every
// variable f makes.
func checkGradients(t *testing.T, shape []int64, f func(b *Builder, x tf.Output) tf.Output) {
	b := NewBuilder(tf.Double, 3)
	x := b.Placeholder("x", tf.Double, shape...)
	y := f(b, x)
	w := b.Placeholder("w", tf.Double, -1)
	ls := b.Scope("loss")
	flatY := op.Reshape(ls, y, op.Const(ls.SubScope("shape"), []int32{-1}))
	loss := op.Sum(ls, op.Mul(ls, flatY, w), op.Const(ls.SubScope("axis"), []int32{0}))
	vars := b.Variables()
	params := []tf.Output{x}
	for _, v := range vars {
		params = append(params, v.Read)
	}
	grads, err := b.GradientsOf("gradients", loss, params)
	if err != nil {
		t.Fatal(err)
	}
	sess := newSession(t, b)
	r := rand.New(rand.NewSource(5))
	xv := randTensor(t, r, tf.Double, 1, shape...)
	ny := len(flat(t, run(t, sess, map[tf.Output]*tf.Tensor{x: xv}, []tf.Output{flatY})[0]))
	wv := randTensor(t, r, tf.Double, 1, int64(ny))

	// The point of evaluation: x and every variable's current value.
	point := map[tf.Output]*tf.Tensor{x: xv, w: wv}
	for _, v := range vars {
		point[v.Read] = run(t, sess, nil, []tf.Output{v.Read})[0]
	}
	analytic := run(t, sess, point, grads)
	lossAt := func(p tf.Output, vals []float64) float64 {
		feeds := map[tf.Output]*tf.Tensor{}
		for k, v := range point {
			feeds[k] = v
		}
		feeds[p] = tensorOf(t, tf.Double, vals, point[p].Shape()...)
		return flat(t, run(t, sess, feeds, []tf.Output{loss})[0])[0]
	}
	for i, p := range params {
		name := "x"
		if i > 0 {
			name = vars[i-1].Name
		}
		base := flat(t, point[p])
		ana := flat(t, analytic[i])
		if len(ana) != len(base) {
			t.Fatalf("%s: gradient has %d elements, parameter %d", name, len(ana), len(base))
		}
		for _, j := range probes(r, len(base)) {
			vals := append([]float64(nil), base...)
			vals[j] = base[j] + fdStep
			up := lossAt(p, vals)
			vals[j] = base[j] - fdStep
			down := lossAt(p, vals)
			num := (up - down) / (2 * fdStep)
			if d := math.Abs(num - ana[j]); d > fdAbsTol+fdRelTol*math.Abs(num) {
				t.Errorf("%s[%d]: analytic %.10g, finite difference %.10g (diff %.3g)", name, j, ana[j], num, d)
			}
		}
	}
}

// probes picks up to fdProbes distinct element indices of a tensor of n.
func probes(r *rand.Rand, n int) []int {
	if n <= fdProbes {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return r.Perm(n)[:fdProbes]
}

func TestGradientsRefuseAnUnusedVariable(t *testing.T) {
	b := NewBuilder(tf.Float, 1)
	x := b.Placeholder("x", tf.Float, 1, 4, 4, 3)
	used := b.Conv2D("used", x, Conv{Filters: 2, Kernel: 3})
	b.Variable("unused", []int64{3}, Zeros())
	_, err := b.Gradients("g", b.MeanAll(used), b.Variables())
	if err == nil {
		t.Fatal("Gradients with a variable the loss does not use: no error")
	}
	t.Log(err)
}

// instanceNormDefinition is instance normalization written out: per image
// and channel, (x - mean) / sqrt(variance + eps) over H and W, from ops with
// C++ gradients (Mean, SquaredDifference, Rsqrt).
func instanceNormDefinition(b *Builder, x tf.Output) tf.Output {
	s := b.Scope("definition")
	axes := op.Const(s.SubScope("axes"), []int32{1, 2})
	mean := op.Mean(s.SubScope("mean"), x, axes, op.MeanKeepDims(true))
	variance := op.Mean(s.SubScope("variance"), op.SquaredDifference(s, x, mean), axes, op.MeanKeepDims(true))
	return op.Mul(s, op.Sub(s, x, mean), op.Rsqrt(s, op.Add(s, variance, b.Scalar(InstanceNormEpsilon))))
}

// TestInstanceNormEqualsItsDefinition holds the fused InstanceNorm (float32
// only) to instanceNormDefinition, whose gradient the finite-difference
// check covers: values, and the gradients of sum(y * w) for a random w with
// respect to x and to the affine scale and offset, on shapes with one and
// several images, odd sides, and the batch unknown to the graph.
func TestInstanceNormEqualsItsDefinition(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shape  []int64
		affine bool
	}{
		{"one image", []int64{1, 5, 7, 3}, false},
		{"three images", []int64{3, 4, 4, 2}, false},
		{"two images, odd sides, affine", []int64{2, 9, 5, 4}, true},
		{"one image, 64 channels", []int64{1, 6, 6, 64}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder(tf.Float, 3)
			x := b.Placeholder("x", tf.Float, -1, tc.shape[1], tc.shape[2], tc.shape[3])
			fused := b.InstanceNorm("in", x, tc.affine)
			want := instanceNormDefinition(b, x)
			params := []tf.Output{x}
			if tc.affine {
				vs := b.Variables()
				scale, offset := vs[0].Read, vs[1].Read
				a := b.Scope("affine_definition")
				want = op.Add(a, op.Mul(a, want, scale), offset)
				params = append(params, scale, offset)
			}
			if got := fused.Shape(); got.NumDimensions() != 4 || got.Size(3) != tc.shape[3] {
				t.Fatalf("static shape %v: want [?, %d, %d, %d]", got, tc.shape[1], tc.shape[2], tc.shape[3])
			}
			w := b.Placeholder("w", tf.Float, tc.shape...)
			gotGrads := weightedSumGradients(t, b, "fused", fused, w, params)
			wantGrads := weightedSumGradients(t, b, "definition", want, w, params)
			sess := newSession(t, b)
			r := rand.New(rand.NewSource(11))
			// An offset and scale per image and channel, as conv outputs have.
			xv := randTensor(t, r, tf.Float, 3, tc.shape...)
			vals := flat(t, xv)
			for i := range vals {
				vals[i] += float64(i%int(tc.shape[3])) - 1
			}
			feeds := map[tf.Output]*tf.Tensor{x: tensorOf(t, tf.Float, vals, tc.shape...), w: randTensor(t, r, tf.Float, 1, tc.shape...)}
			out := run(t, sess, feeds, append(append([]tf.Output{fused, want}, gotGrads...), wantGrads...))
			if d := maxAbsDiff(flat(t, out[0]), flat(t, out[1])); d > 1e-5 {
				t.Errorf("values differ from the definition by %.3g", d)
			}
			k := len(params)
			for i := 0; i < k; i++ {
				got, want := flat(t, out[2+i]), flat(t, out[2+k+i])
				scale := 0.0
				for _, v := range want {
					scale = math.Max(scale, math.Abs(v))
				}
				if d := maxAbsDiff(got, want); d > 1e-5+1e-5*scale {
					t.Errorf("gradient %d differs from the definition's by %.3g (largest %.3g)", i, d, scale)
				}
			}
		})
	}
}

func TestRowHalvesConvolutionGivesThePlainConvolutionsNumbers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shape  []int64 // of the input
		conv   Conv
		resize bool // ResizeConv2D instead of Conv2D
	}{
		{"one image, 3x3, reflection", []int64{1, 8, 8, 3}, Conv{Filters: 4, Kernel: 3, Pad: 1, Reflect: true, Bias: true}, false},
		{"one image, 7x7 to 3 channels", []int64{1, 12, 10, 5}, Conv{Filters: 3, Kernel: 7, Pad: 3, Reflect: true, Bias: true}, false},
		{"two images, stride 2, zero padding", []int64{2, 8, 6, 4}, Conv{Filters: 6, Kernel: 3, Stride: 2, Pad: 1}, false},
		{"three images, 4x4 kernel", []int64{3, 9, 9, 2}, Conv{Filters: 5, Kernel: 4, Pad: 1}, false},
		{"resize convolution: height known only at run time", []int64{1, 5, 4, 6}, Conv{Filters: 3, Kernel: 3, Stride: 2, Bias: true}, true},
		{"odd output height: the halves share a row", []int64{1, 7, 7, 3}, Conv{Filters: 2, Kernel: 3, Pad: 1}, false},
		{"odd output height, stride 2", []int64{2, 9, 5, 3}, Conv{Filters: 2, Kernel: 3, Stride: 2, Pad: 1}, false},
		{"one output row", []int64{1, 3, 3, 2}, Conv{Filters: 2, Kernel: 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder(tf.Float, 5)
			x := b.Placeholder("x", tf.Float, -1, tc.shape[1], tc.shape[2], tc.shape[3])
			layer := func(b *Builder) tf.Output {
				if tc.resize {
					return b.ResizeConv2D("layer", x, tc.conv)
				}
				return b.Conv2D("layer", x, tc.conv)
			}
			plain := layer(b)
			halved := layer(b.WithRowHalves()) // the same variables
			if n := len(b.Variables()); n != 1+boolInt(tc.conv.Bias) {
				t.Fatalf("%d variables: the two layers do not share theirs", n)
			}
			if got, want := halved.Shape().String(), plain.Shape().String(); got != want {
				t.Errorf("static shape %s, want %s", got, want)
			}
			cut := false
			for _, o := range b.Graph().Operations() {
				cut = cut || strings.Contains(o.Name(), "row_halves")
			}
			if !cut {
				t.Fatal("no row_halves ops: the builder ran the plain convolution")
			}
			params := []tf.Output{x}
			for _, v := range b.Variables() {
				params = append(params, v.Read)
			}
			r := rand.New(rand.NewSource(7))
			xv := randTensor(t, r, tf.Float, 1, tc.shape...)
			sess := newSession(t, b)
			shape := run(t, sess, map[tf.Output]*tf.Tensor{x: xv}, []tf.Output{plain})[0].Shape()
			w := b.Placeholder("w", tf.Float, shape...)
			gotGrads := weightedSumGradients(t, b, "halves", halved, w, params)
			wantGrads := weightedSumGradients(t, b, "plain", plain, w, params)
			feeds := map[tf.Output]*tf.Tensor{x: xv, w: randTensor(t, r, tf.Float, 1, shape...)}
			out := run(t, sess, feeds, append(append([]tf.Output{halved, plain}, gotGrads...), wantGrads...))
			if d := maxAbsDiff(flat(t, out[0]), flat(t, out[1])); d > 1e-5 {
				t.Errorf("values differ from the plain convolution's by %.3g", d)
			}
			k := len(params)
			for i := 0; i < k; i++ {
				if d := maxAbsDiff(flat(t, out[2+i]), flat(t, out[2+k+i])); d > 1e-4 {
					t.Errorf("gradient %d differs from the plain convolution's by %.3g", i, d)
				}
			}
		})
	}
}

// weightedSumGradients adds, under name, the gradients of sum(y * w) (y and w
// 4-D) with respect to params: a loss that weighs every output element
// differently, so that two ways of computing y can be compared backwards.
func weightedSumGradients(t *testing.T, b *Builder, name string, y, w tf.Output, params []tf.Output) []tf.Output {
	t.Helper()
	s := b.Scope("loss_" + name)
	loss := op.Sum(s, op.Mul(s, y, w), op.Const(s.SubScope("axes"), []int32{0, 1, 2, 3}))
	grads, err := b.GradientsOf("grad_"+name, loss, params)
	if err != nil {
		t.Fatal(err)
	}
	return grads
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestBlendKeepsTheInputWhereTheGateIsShutAndTakesTheImageWhereItIsOpen(t *testing.T) {
	b := NewBuilder(tf.Double, 1)
	// One pixel of three channels per case: gate 0, 1, 0.25, and a shut
	// sigmoid gate (logit -40).
	x := b.Const([][][][]float64{{{{0.2, -0.4, 0.9}, {0.2, -0.4, 0.9}, {0.2, -0.4, 0.9}, {0.2, -0.4, 0.9}}}})
	y := b.Const([][][][]float64{{{{-1, 1, 0.5}, {-1, 1, 0.5}, {-1, 1, 0.5}, {-1, 1, 0.5}}}})
	m := b.Const([][][][]float64{{{{0}, {1}, {0.25}, {0}}}})
	shut := b.Sigmoid(b.Const([][][][]float64{{{{-40}}}}))
	out := b.Blend(x, y, m)
	outShut := b.Blend(x, y, shut)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	res := run(t, newSession(t, b), nil, []tf.Output{out, outShut})
	got, gotShut := flat(t, res[0]), flat(t, res[1])
	want := []float64{0.2, -0.4, 0.9, -1, 1, 0.5, 0.2 + 0.25*-1.2, -0.4 + 0.25*1.4, 0.9 + 0.25*-0.4, 0.2, -0.4, 0.9}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("blend value %d = %.15g, want %.15g", i, got[i], want[i])
		}
	}
	for i, v := range []float64{0.2, -0.4, 0.9} {
		if math.Abs(gotShut[i]-v) > 1e-15 {
			t.Errorf("through a shut gate, channel %d = %.17g, want the input's %g", i, gotShut[i], v)
		}
	}
}

func TestResidualTanhAppliesTheChangeToTheClippedImage(t *testing.T) {
	const limit = 0.999
	atanh := math.Atanh
	for _, tc := range []struct {
		name       string
		x, h, want float64
	}{
		{"no change keeps a mid value", 0.3, 0, 0.3},
		{"no change keeps zero", 0, 0, 0},
		{"no change clips white", 1, 0, limit},
		{"no change clips black", -1, 0, -limit},
		{"a change moves through the tanh", 0.3, 0.5, math.Tanh(atanh(0.3) + 0.5)},
		{"white can be darkened to grey", 1, -atanh(limit), 0},
		{"a large change saturates, never leaving [-1, 1]", -0.9, 40, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder(tf.Double, 1)
			y := b.ResidualTanh(b.Const([]float64{tc.x}), b.Const([]float64{tc.h}), limit)
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			got := flat(t, run(t, newSession(t, b), nil, []tf.Output{y})[0])[0]
			if math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("ResidualTanh(%g, %g) = %.15g, want %.15g", tc.x, tc.h, got, tc.want)
			}
		})
	}
}

func TestResizeToMultipleTakesTheNearestMultipleAndComesBackToTheInputSize(t *testing.T) {
	for _, tc := range []struct {
		name         string
		h, w, m      int64
		wantH, wantW int64
	}{
		{"the default run's test faces to its training crops", 70, 70, 64, 64, 64},
		{"rounds down and up", 37, 45, 16, 32, 48},
		{"never below one multiple", 8, 12, 16, 16, 16},
		{"a multiple keeps its size", 64, 128, 64, 64, 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Float, as in the models: the resize computes in float32.
			b := NewBuilder(tf.Float, 1)
			x := b.Placeholder("x", tf.Float, -1, -1, -1, 2) // sizes known at run time only
			small, back := b.ResizeToMultiple(x, int(tc.m))
			out := back(small)
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewSource(1))
			in := randTensor(t, r, tf.Float, 1, 1, tc.h, tc.w, 2)
			res := run(t, newSession(t, b), map[tf.Output]*tf.Tensor{x: in}, []tf.Output{small, out})
			if got, want := res[0].Shape(), []int64{1, tc.wantH, tc.wantW, 2}; !slices.Equal(got, want) {
				t.Errorf("resized to %v, want %v", got, want)
			}
			if got, want := res[1].Shape(), []int64{1, tc.h, tc.w, 2}; !slices.Equal(got, want) {
				t.Errorf("back to %v, want %v", got, want)
			}
			if tc.h == tc.wantH && tc.w == tc.wantW {
				if d := maxAbsDiff(flat(t, res[1]), flat(t, in)); d != 0 {
					t.Errorf("a size that is already a multiple changed by up to %g", d)
				}
			}
		})
	}
}

func TestResizeToMultipleInterpolatesAtHalfPixelCentres(t *testing.T) {
	// A ramp 0, 1, 2 along W, resized from 3 to 4 columns: the output
	// columns sample the input at (j + 0.5) * 3/4 - 0.5 = -0.125, 0.625,
	// 1.375 and 2.125, clamped to the ends.
	b := NewBuilder(tf.Double, 1)
	x := b.Placeholder("x", tf.Double, 1, 2, 3, 1)
	small, _ := b.ResizeToMultiple(x, 2)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	in := tensorOf(t, tf.Double, []float64{0, 1, 2, 0, 1, 2}, 1, 2, 3, 1)
	got := flat(t, run(t, newSession(t, b), map[tf.Output]*tf.Tensor{x: in}, []tf.Output{small})[0])
	want := []float64{0, 0.625, 1.375, 2, 0, 0.625, 1.375, 2}
	if maxAbsDiff(got, want) > 1e-12 {
		t.Errorf("resized ramp %v, want %v", got, want)
	}
}

func TestResizeToMultipleAddsNoOpForAStaticMultiple(t *testing.T) {
	b := NewBuilder(tf.Double, 1)
	x := b.Placeholder("x", tf.Double, 2, 64, 32, 3)
	before := len(b.Graph().Operations())
	small, back := b.ResizeToMultiple(x, 32)
	if small != x || back(x) != x {
		t.Error("a static multiple was not passed through as it is")
	}
	if n := len(b.Graph().Operations()) - before; n != 0 {
		t.Errorf("%d ops added for a static multiple, want none", n)
	}
}

// The bilinear resize computes in float32 whatever its input, too coarse for
// the central differences of the double checks above. It is linear, though:
// the loss sum(w * back(resize(x))) changes by exactly its gradient's i-th
// element when x_i grows by 1, up to float32 rounding.
func TestResizeToMultipleAndBackGradientIsExactForALinearMap(t *testing.T) {
	shape := []int64{1, 5, 7, 2} // 5x7 -> 4x8 (the nearest multiples of 4) -> 5x7
	b := NewBuilder(tf.Float, 1)
	x := b.Placeholder("x", tf.Float, shape...)
	small, back := b.ResizeToMultiple(x, 4)
	y := back(small)
	r := rand.New(rand.NewSource(3))
	w := b.Const(flat32(flat(t, randTensor(t, r, tf.Float, 1, shape...))))
	ls := b.Scope("loss")
	loss := op.Sum(ls, op.Mul(ls, op.Reshape(ls, y, op.Const(ls.SubScope("shape"), []int32{-1})), w), op.Const(ls.SubScope("axis"), []int32{0}))
	grads, err := b.GradientsOf("gradients", loss, []tf.Output{x})
	if err != nil {
		t.Fatal(err)
	}
	sess := newSession(t, b)
	x0 := flat(t, randTensor(t, r, tf.Float, 1, shape...))
	at := func(v []float64) []*tf.Tensor {
		return run(t, sess, map[tf.Output]*tf.Tensor{x: tensorOf(t, tf.Float, v, shape...)}, []tf.Output{loss, grads[0]})
	}
	res := at(x0)
	l0, g := flat(t, res[0])[0], flat(t, res[1])
	for i := range x0 {
		xi := append([]float64(nil), x0...)
		xi[i]++
		if d := flat(t, at(xi)[0])[0] - l0; math.Abs(d-g[i]) > 1e-4 {
			t.Errorf("x[%d]: gradient %.6f, loss change for +1 %.6f", i, g[i], d)
		}
	}
}

func flat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return out
}
