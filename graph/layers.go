package graph

import (
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// Conv describes a 2-D convolution layer on NHWC tensors.
type Conv struct {
	Filters int // output channels
	Kernel  int // square kernel size
	Stride  int // 1 when 0
	// Pad is the padding added on each side of H and W before a VALID
	// convolution: by reflection (MirrorPad REFLECT) when Reflect is set,
	// with zeros otherwise.
	Pad     int
	Reflect bool
	Bias    bool
	// Init initializes the kernel; Normal(0, 0.02) when nil (the CycleGAN
	// paper's). Biases start at zero.
	Init Initializer
}

func (c Conv) stride() int64 {
	if c.Stride <= 0 {
		return 1
	}
	return int64(c.Stride)
}

func (c Conv) init() Initializer {
	if c.Init == nil {
		return Normal(0, 0.02)
	}
	return c.Init
}

// channels returns the static channel count of an NHWC tensor.
func (b *Builder) channels(x tf.Output, layer string) int64 {
	if b.failed() {
		return 0
	}
	sh := x.Shape()
	if sh.NumDimensions() != 4 {
		b.fail("%s: input %s must be 4-D NHWC, has shape %v", layer, x.Op.Name(), sh)
		return 0
	}
	c := sh.Size(3)
	if c < 0 {
		b.fail("%s: input %s needs a known channel count, has shape %v", layer, x.Op.Name(), sh)
	}
	return c
}

// Pad2D pads H and W of an NHWC tensor by p on each side, by reflection or
// with zeros.
func (b *Builder) Pad2D(x tf.Output, p int, reflect bool) tf.Output {
	if p == 0 {
		return x
	}
	s := b.Scope("pad")
	pads := op.Const(s.SubScope("paddings"), [][]int32{{0, 0}, {int32(p), int32(p)}, {int32(p), int32(p)}, {0, 0}})
	if reflect {
		return op.MirrorPad(s, x, pads, "REFLECT")
	}
	return op.Pad(s, x, pads)
}

// Conv2D adds a convolution layer called name: optional padding, a VALID
// convolution with stride c.Stride, and an optional bias.
func (b *Builder) Conv2D(name string, x tf.Output, c Conv) tf.Output {
	l := b.Sub(name)
	in := l.channels(x, name)
	if l.failed() {
		return tf.Output{}
	}
	w := l.Variable("kernel", []int64{int64(c.Kernel), int64(c.Kernel), in, int64(c.Filters)}, c.init())
	x = l.Pad2D(x, c.Pad, c.Reflect)
	return l.bias(l.conv(x, w.Read, c.stride()), c)
}

// conv is the VALID convolution of the padded NHWC x by kernel w with stride
// s. On a builder WithRowHalves it runs as two halves of rows stacked on the
// batch: with Ho output rows and h = ceil(Ho/2), the top half computes output
// rows [0, h) from input rows [0, r), the bottom half output rows [Ho-h, Ho)
// from input rows [(Ho-h)*s, (Ho-h)*s+r), r = (h-1)*s + k; for an odd Ho
// the row both compute is dropped from the bottom one. Sizes are computed
// at run time, so any height works.
func (b *Builder) conv(x, w tf.Output, s int64) tf.Output {
	strides := []int64{1, s, s, 1}
	k := w.Shape().Size(0)
	if !b.rowHalves || k < 0 {
		return op.Conv2D(b.Scope("conv"), x, w, strides, "VALID")
	}
	sc := b.Scope("row_halves")
	i32 := func(name string, v int32) tf.Output { return op.Const(sc.SubScope(name), v) }
	vec := func(name string, xs ...tf.Output) tf.Output { return op.Pack(sc.SubScope(name), xs) }
	hp := op.StridedSlice(sc.SubScope("hp"), op.Shape(sc.SubScope("shape"), x, op.ShapeOutType(tf.Int32)),
		op.Const(sc.SubScope("hp_begin"), []int32{1}), op.Const(sc.SubScope("hp_end"), []int32{2}),
		op.Const(sc.SubScope("hp_stride"), []int32{1}), op.StridedSliceShrinkAxisMask(1))
	ks, ss := i32("k", int32(k)), i32("s", int32(s))
	one, two := i32("one", 1), i32("two", 2)
	ho := op.AddV2(sc.SubScope("ho"), op.FloorDiv(sc.SubScope("ho_div"), op.Sub(sc.SubScope("ho_sub"), hp, ks), ss), one)
	h := op.FloorDiv(sc.SubScope("h"), op.AddV2(sc.SubScope("h_add"), ho, one), two)
	r := op.AddV2(sc.SubScope("r"), op.Mul(sc.SubScope("r_mul"), op.Sub(sc.SubScope("r_sub"), h, one), ss), ks)
	bottomStart := op.Mul(sc.SubScope("bottom_start"), op.Sub(sc.SubScope("rest"), ho, h), ss)
	zero, all := i32("zero", 0), i32("all", -1)
	size := vec("size", all, r, all, all)
	top := op.Slice(sc.SubScope("top"), x, vec("top_begin", zero, zero, zero, zero), size)
	bottom := op.Slice(sc.SubScope("bottom"), x, vec("bottom_begin", zero, bottomStart, zero, zero), size)
	batch := i32("batch_axis", 0)
	y := op.Conv2D(b.Scope("conv"), op.ConcatV2(sc.SubScope("stack"), []tf.Output{top, bottom}, batch), w, strides, "VALID")
	halves := op.Split(sc.SubScope("unstack"), batch, y, 2)
	drop := op.Sub(sc.SubScope("drop"), op.Mul(sc.SubScope("both"), h, two), ho) // 1 when Ho is odd
	halves[1] = op.Slice(sc.SubScope("bottom_rows"), halves[1], vec("drop_begin", zero, drop, zero, zero), vec("drop_size", all, all, all, all))
	return op.ConcatV2(sc.SubScope("rows"), halves, i32("row_axis", 1))
}

func (b *Builder) bias(y tf.Output, c Conv) tf.Output {
	if !c.Bias {
		return y
	}
	bv := b.Variable("bias", []int64{int64(c.Filters)}, Zeros())
	return op.BiasAdd(b.Scope("bias_add"), y, bv.Read)
}

// ConvTranspose2D adds a transposed convolution (the CycleGAN paper's
// fractionally strided u-k layer) called name: SAME padding, so the output is
// exactly Stride times the input in H and W, for any input size.
func (b *Builder) ConvTranspose2D(name string, x tf.Output, c Conv) tf.Output {
	l := b.Sub(name)
	in := l.channels(x, name)
	if l.failed() {
		return tf.Output{}
	}
	// A transposed conv's kernel is [k, k, out, in].
	w := l.Variable("kernel", []int64{int64(c.Kernel), int64(c.Kernel), int64(c.Filters), in}, c.init())
	s := c.stride()
	size := l.scaledSize(x, s, int64(c.Filters))
	y := op.Conv2DBackpropInput(l.Scope("conv_transpose"), size, w.Read, x, []int64{1, s, s, 1}, "SAME")
	return l.bias(y, c)
}

// scaledSize returns [N, H*s, W*s, channels] for NHWC x, computed at run time.
func (b *Builder) scaledSize(x tf.Output, s, channels int64) tf.Output {
	sc := b.Scope("output_size")
	shape := op.Shape(sc, x, op.ShapeOutType(tf.Int32))
	n := op.Slice(sc.SubScope("n"), shape, op.Const(sc.SubScope("b0"), []int32{0}), op.Const(sc.SubScope("s0"), []int32{1}))
	hw := op.Slice(sc.SubScope("hw"), shape, op.Const(sc.SubScope("b1"), []int32{1}), op.Const(sc.SubScope("s1"), []int32{2}))
	hw = op.Mul(sc, hw, op.Const(sc.SubScope("stride"), int32(s)))
	c := op.Const(sc.SubScope("c"), []int32{int32(channels)})
	return op.ConcatV2(sc, []tf.Output{n, hw, c}, op.Const(sc.SubScope("axis"), int32(0)))
}

// ResizeConv2D upsamples by c.Stride with nearest-neighbour resizing and then
// applies a stride-1 convolution with reflection padding (k/2): the
// checkerboard-free alternative to ConvTranspose2D.
func (b *Builder) ResizeConv2D(name string, x tf.Output, c Conv) tf.Output {
	l := b.Sub(name)
	s := c.stride()
	sc := l.Scope("resize")
	shape := op.Shape(sc, x, op.ShapeOutType(tf.Int32))
	hw := op.Slice(sc.SubScope("hw"), shape, op.Const(sc.SubScope("begin"), []int32{1}), op.Const(sc.SubScope("size"), []int32{2}))
	hw = op.Mul(sc, hw, op.Const(sc.SubScope("stride"), int32(s)))
	up := op.ResizeNearestNeighbor(sc, x, hw)
	in := l.channels(up, name)
	if l.failed() {
		return tf.Output{}
	}
	c.Stride = 1
	c.Pad = c.Kernel / 2
	c.Reflect = true
	w := l.Variable("kernel", []int64{int64(c.Kernel), int64(c.Kernel), in, int64(c.Filters)}, c.init())
	return l.bias(l.conv(l.Pad2D(up, c.Pad, true), w.Read, 1), c)
}

// InstanceNormEpsilon is added to the variance, as in PyTorch's InstanceNorm2d.
const InstanceNormEpsilon = 1e-5

// InstanceNorm normalizes each image and channel of NHWC x over H and W.
// It runs as one FusedBatchNormV3 in training mode (one pass each way, with
// a C++ gradient, and only x kept for back-propagation), which normalizes
// every channel over N, H and W: moving the batch next to the channels,
// [N,H,W,C] -> [1,H,W,N*C], makes each image's channel a channel of its
// own. For one image the transposes are reshapes. With affine, a learned
// per-channel scale (init 1) and offset (init 0) follow.
func (b *Builder) InstanceNorm(name string, x tf.Output, affine bool) tf.Output {
	l := b.Sub(name)
	s := l.Scope("fused")
	hwnc := op.Transpose(s.SubScope("to_hwnc"), x, op.Const(s.SubScope("to_hwnc_perm"), []int32{1, 2, 0, 3}))
	shape := op.Shape(s.SubScope("hwnc_shape"), hwnc, op.ShapeOutType(tf.Int32))
	dim := func(name string, i int32) tf.Output {
		return op.StridedSlice(s.SubScope(name), shape, op.Const(s.SubScope(name+"_begin"), []int32{i}),
			op.Const(s.SubScope(name+"_end"), []int32{i + 1}), op.Const(s.SubScope(name+"_stride"), []int32{1}))
	}
	nc := op.Mul(s.SubScope("nc"), dim("n", 2), dim("c", 3))
	flatShape := op.ConcatV2(s.SubScope("flat_shape"), []tf.Output{op.Const(s.SubScope("one"), []int32{1}), dim("h", 0), dim("w", 1), nc},
		op.Const(s.SubScope("axis"), int32(0)))
	flat := op.Reshape(s.SubScope("flat"), hwnc, flatShape)
	ones := op.Fill(s.SubScope("ones"), nc, op.Const(s.SubScope("one_f"), float32(1)))
	zeros := op.Fill(s.SubScope("zeros"), nc, op.Const(s.SubScope("zero_f"), float32(0)))
	none := op.Const(s.SubScope("none"), []float32{})
	norm, _, _, _, _, _ := op.FusedBatchNormV3(s, flat, ones, zeros, none, none,
		op.FusedBatchNormV3Epsilon(InstanceNormEpsilon), op.FusedBatchNormV3IsTraining(true))
	back := op.Reshape(s.SubScope("unflat"), norm, shape)
	y := op.Transpose(s.SubScope("to_nhwc"), back, op.Const(s.SubScope("to_nhwc_perm"), []int32{2, 0, 1, 3}))
	if !affine {
		return y
	}
	c := l.channels(x, name)
	if l.failed() {
		return tf.Output{}
	}
	scale := l.Variable("scale", []int64{c}, Ones())
	offset := l.Variable("offset", []int64{c}, Zeros())
	a := l.Scope("affine")
	return op.Add(a, op.Mul(a, y, scale.Read), offset.Read)
}

// ReLU is max(x, 0).
func (b *Builder) ReLU(x tf.Output) tf.Output { return op.Relu(b.Scope("relu"), x) }

// LeakyReLU is x for x > 0 and alpha*x otherwise (the PatchGAN uses 0.2).
func (b *Builder) LeakyReLU(x tf.Output, alpha float64) tf.Output {
	return op.LeakyRelu(b.Scope("leaky_relu"), x, op.LeakyReluAlpha(float32(alpha)))
}

// Tanh is the hyperbolic tangent.
func (b *Builder) Tanh(x tf.Output) tf.Output { return op.Tanh(b.Scope("tanh"), x) }

// ResidualTanh is tanh(atanh(x) + h): the image x in [-1, 1], changed by h
// in the pre-activation space of a tanh output layer, so that h = 0 returns
// x. x is first clipped to [-limit, limit] (limit < 1) so that pure black
// and white keep a finite pre-image: atanh(0.999) = 3.8.
func (b *Builder) ResidualTanh(x, h tf.Output, limit float64) tf.Output {
	s := b.Scope("residual_tanh")
	lim := b.Scalar(limit)
	xc := op.Maximum(s.SubScope("low"), op.Minimum(s.SubScope("high"), x, lim), op.Neg(s, lim))
	return b.Tanh(b.Add(op.Atanh(s, xc), h))
}

// Sigmoid is the logistic function 1 / (1 + exp(-x)).
func (b *Builder) Sigmoid(x tf.Output) tf.Output { return op.Sigmoid(b.Scope("sigmoid"), x) }

// Blend is x + m * (y - x): y where m is 1, x where m is 0; m broadcasts
// (e.g. one channel over three).
func (b *Builder) Blend(x, y, m tf.Output) tf.Output {
	s := b.Scope("blend")
	return op.AddV2(s, x, op.Mul(s, m, op.Sub(s, y, x)))
}

// SplitLastChannel cuts an NHWC tensor into its channels but the last, and
// its last channel.
func (b *Builder) SplitLastChannel(x tf.Output) (rest, last tf.Output) {
	s := b.Scope("split_last_channel")
	c := b.channels(x, "split_last_channel")
	rest = op.Slice(s.SubScope("rest"), x, b.Const([]int32{0, 0, 0, 0}), b.Const([]int32{-1, -1, -1, int32(c - 1)}))
	last = op.Slice(s.SubScope("last"), x, b.Const([]int32{0, 0, 0, int32(c - 1)}), b.Const([]int32{-1, -1, -1, 1}))
	return rest, last
}

// Add adds x and y elementwise (with broadcasting).
func (b *Builder) Add(x, y tf.Output) tf.Output { return op.AddV2(b.Scope("add"), x, y) }

// String describes a Conv for logs and errors.
func (c Conv) String() string {
	return fmt.Sprintf("conv(filters=%d kernel=%d stride=%d pad=%d reflect=%v bias=%v)",
		c.Filters, c.Kernel, c.stride(), c.Pad, c.Reflect, c.Bias)
}

// ConcatChannels stacks NHWC tensors of equal N, H and W along C.
func (b *Builder) ConcatChannels(xs ...tf.Output) tf.Output {
	s := b.Scope("concat")
	return op.ConcatV2(s, xs, op.Const(s.SubScope("axis"), int32(3)))
}

// PadToMultiple pads H and W of NHWC x at the bottom and right up to
// multiples of m, with MirrorPad in mode "REFLECT" (which needs each side
// longer than its padding) or "SYMMETRIC" (which works down to 1 pixel for
// m = 2). The amounts are computed at run time, so any size works; crop
// cuts a result of the padded size back to x's H and W. Both keep x's static
// channel count, and every op has a C++ gradient, so the pair can sit inside
// a training graph.
func (b *Builder) PadToMultiple(x tf.Output, m int, mode string) (padded tf.Output, crop func(y tf.Output) tf.Output) {
	s := b.Scope("pad_to_multiple")
	shape := op.Shape(s, x, op.ShapeOutType(tf.Int32))
	hw := op.Slice(s.SubScope("hw"), shape, op.Const(s.SubScope("begin"), []int32{1}), op.Const(s.SubScope("size"), []int32{2}))
	mc := op.Const(s.SubScope("m"), int32(m))
	extra := op.FloorMod(s, op.Sub(s, mc, op.FloorMod(s.SubScope("rem"), hw, mc)), mc) // [ph, pw]
	// paddings [[0,0],[0,ph],[0,pw],[0,0]]
	mid := op.Pack(s.SubScope("mid"), []tf.Output{op.Const(s.SubScope("zeros"), []int32{0, 0}), extra}, op.PackAxis(1))
	pads := op.ConcatV2(s, []tf.Output{
		op.Const(s.SubScope("n"), [][]int32{{0, 0}}), mid, op.Const(s.SubScope("c"), [][]int32{{0, 0}}),
	}, op.Const(s.SubScope("axis"), int32(0)))
	// Computed paddings and sizes lose the static shape; put the channels
	// back (convolutions need them to size their kernels).
	padded = b.withChannels(s.SubScope("padded"), op.MirrorPad(s, x, pads, mode), staticChannels(x))
	crop = func(y tf.Output) tf.Output {
		c := b.Scope("crop")
		size := op.ConcatV2(c, []tf.Output{
			op.Const(c.SubScope("n"), []int32{-1}), hw, op.Const(c.SubScope("c"), []int32{-1}),
		}, op.Const(c.SubScope("axis"), int32(0)))
		out := op.Slice(c, y, op.Const(c.SubScope("begin"), []int32{0, 0, 0, 0}), size)
		return b.withChannels(c.SubScope("cropped"), out, staticChannels(y))
	}
	return padded, crop
}

// ResizeToMultiple resizes H and W of NHWC x bilinearly to the nearest
// multiples of m (at least m each), so that a network halving its input
// log2(m) times sees the geometry it sees on sizes that are multiples of m:
// no level pads an odd side. back resizes a result bilinearly to x's H and
// W. When x's static H and W are already multiples of m, both are the
// identity and add no op. The sizes are computed at run time otherwise, so
// any size works, and both keep the static channel count; every op has a
// C++ gradient, so the pair can sit inside a training graph.
func (b *Builder) ResizeToMultiple(x tf.Output, m int) (resized tf.Output, back func(y tf.Output) tf.Output) {
	if sh := x.Shape(); sh.NumDimensions() == 4 {
		if h, w := sh.Size(1), sh.Size(2); h > 0 && w > 0 && h%int64(m) == 0 && w%int64(m) == 0 {
			return x, func(y tf.Output) tf.Output { return y }
		}
	}
	s := b.Scope("resize_to_multiple")
	shape := op.Shape(s, x, op.ShapeOutType(tf.Int32))
	hw := op.Slice(s.SubScope("hw"), shape, op.Const(s.SubScope("begin"), []int32{1}), op.Const(s.SubScope("size"), []int32{2}))
	mc := op.Const(s.SubScope("m"), int32(m))
	// max(m, floor((hw + m/2) / m) * m)
	near := op.Mul(s, op.FloorDiv(s, op.AddV2(s, hw, op.Const(s.SubScope("half"), int32(m/2))), mc), mc)
	size := op.Maximum(s, near, mc)
	resized = b.withChannels(s.SubScope("resized"), b.resizeBilinear(s, x, size), staticChannels(x))
	back = func(y tf.Output) tf.Output {
		c := b.Scope("resize_back")
		return b.withChannels(c.SubScope("resized"), b.resizeBilinear(c, y, hw), staticChannels(y))
	}
	return resized, back
}

// resizeBilinear resizes NHWC x to size [h, w] with half-pixel centres (as
// tf.image.resize does). The op returns float32 whatever its input; a
// result for another type is cast back to x's.
func (b *Builder) resizeBilinear(s *op.Scope, x, size tf.Output) tf.Output {
	out := op.ResizeBilinear(s, x, size, op.ResizeBilinearHalfPixelCenters(true))
	if x.DataType() != tf.Float {
		out = op.Cast(s.SubScope("cast"), out, x.DataType())
	}
	return out
}

// staticChannels is the channel count of NHWC x known at graph build time,
// or -1.
func staticChannels(x tf.Output) int64 {
	if sh := x.Shape(); sh.NumDimensions() == 4 {
		return sh.Size(3)
	}
	return -1
}

// withChannels reshapes NHWC x to its own run-time N, H, W and a static
// channel count c (a no-op when c is unknown).
func (b *Builder) withChannels(s *op.Scope, x tf.Output, c int64) tf.Output {
	if c < 0 {
		return x
	}
	shape := op.Shape(s, x, op.ShapeOutType(tf.Int32))
	nhw := op.Slice(s.SubScope("nhw"), shape, op.Const(s.SubScope("begin"), []int32{0}), op.Const(s.SubScope("size"), []int32{3}))
	full := op.ConcatV2(s, []tf.Output{nhw, op.Const(s.SubScope("c"), []int32{int32(c)})}, op.Const(s.SubScope("axis"), int32(0)))
	return op.Reshape(s, x, full)
}
