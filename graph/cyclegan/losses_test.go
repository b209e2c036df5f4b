package cyclegan

import (
	"math"
	"math/rand"
	"path/filepath"
	"slices"
	"testing"

	"cyclegan/graph"
	"cyclegan/internal/pycheck"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// tinyConfig is a model small enough to train in a test.
func tinyConfig() Config {
	c := DefaultConfig()
	c.NGF, c.NDF, c.Blocks, c.DLayers = 8, 8, 2, 3
	return c
}

type batch struct {
	woman, man, poolWoman, poolMan []float32
	useWoman, useMan               []bool
}

func randBatch(r *rand.Rand, n, size int) batch {
	img := func() []float32 {
		v := make([]float32, n*size*size*3)
		for i := range v {
			v[i] = float32(math.Tanh(r.NormFloat64()))
		}
		return v
	}
	b := batch{woman: img(), man: img(), poolWoman: img(), poolMan: img()}
	for i := 0; i < n; i++ {
		b.useWoman = append(b.useWoman, r.Intn(2) == 0)
		b.useMan = append(b.useMan, r.Intn(2) == 0)
	}
	return b
}

// initializedStep builds a step (see NewStep) and opens an initialized
// session on it with sc, closed when the test ends.
func initializedStep(t *testing.T, c Config, n, size, seed int64, sc graph.SessionConfig) (*Step, *tf.Session) {
	t.Helper()
	s, err := NewStep(c, n, size, seed)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.InitializedSession(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return s, sess
}

func (s *Step) feeds(t *testing.T, b batch, n, size int) map[tf.Output]*tf.Tensor {
	t.Helper()
	f := map[tf.Output]*tf.Tensor{}
	for o, v := range map[tf.Output][]float32{s.Woman: b.woman, s.Man: b.man, s.PoolWoman: b.poolWoman, s.PoolMan: b.poolMan} {
		x, err := tf.NewTensor(v)
		if err != nil {
			t.Fatal(err)
		}
		x.Reshape([]int64{int64(n), int64(size), int64(size), 3})
		f[o] = x
	}
	for o, v := range map[tf.Output][]bool{s.UseCurrentWoman: b.useWoman, s.UseCurrentMan: b.useMan} {
		x, _ := tf.NewTensor(v)
		f[o] = x
	}
	return f
}

// The trainer builds its step for its training batch and draws the sample
// grid through the same graph, one image per generator at a time.
func TestStepBuiltForABatchOfTwoTranslatesOneImage(t *testing.T) {
	const size = 32
	s, sess := initializedStep(t, tinyConfig(), 2, size, 1, graph.SessionConfig{})
	feeds := s.feeds(t, randBatch(rand.New(rand.NewSource(5)), 1, size), 1, size)
	out, err := sess.Run(feeds, []tf.Output{s.FakeMan, s.RecWoman, s.FakeWoman, s.RecMan}, nil)
	if err != nil {
		t.Fatalf("translate one image through a step built for 2: %v", err)
	}
	for i, o := range out {
		if got := o.Shape(); !slices.Equal(got, []int64{1, size, size, 3}) {
			t.Errorf("output %d: shape %v, want [1 %d %d 3]", i, got, size, size)
		}
	}
}

func TestStepLossesAndGradientsEqualPythonTensorFlowOnTheSameWeights(t *testing.T) {
	const n, size = 2, 36 // 36: the 3-level U-Nets run at 40 and come back
	for _, tc := range []struct {
		name string
		cfg  func(c Config) Config
	}{
		{"bce, transposed conv", func(c Config) Config { return c }},
		{"lsgan, resize conv", func(c Config) Config { c.GANLoss, c.Upsample = "lsgan", "resize"; return c }},
		{"U-Net on a side it resizes (36 to 40)", func(c Config) Config { c.Generator, c.UNetDowns = GeneratorUNet, 3; return c }},
		{"U-Net, resize conv", func(c Config) Config {
			c.Generator, c.UNetDowns, c.Upsample = GeneratorUNet, 3, "resize"
			return c
		}},
		{"residual U-Net", func(c Config) Config { c.Generator, c.UNetDowns, c.Residual = GeneratorUNet, 3, true; return c }},
		{"residual ResNet", func(c Config) Config { c.Residual = true; return c }},
		{"residual U-Net with the change penalty", func(c Config) Config {
			c.Generator, c.UNetDowns, c.Residual, c.Change = GeneratorUNet, 3, true, 2
			return c
		}},
		{"gated residual U-Net", func(c Config) Config {
			c.Generator, c.UNetDowns, c.Residual, c.Gate, c.Change = GeneratorUNet, 3, true, true, 2
			return c
		}},
		{"gated ResNet", func(c Config) Config { c.Gate = true; return c }},
		{"gated U-Net with the gate-area penalty", func(c Config) Config {
			c.Generator, c.UNetDowns, c.Gate, c.GateArea = GeneratorUNet, 3, true, 1.5
			return c
		}},
		{"gated U-Net with its head, on a side it resizes", func(c Config) Config {
			c.Generator, c.UNetDowns, c.UNetHead, c.Gate, c.GateArea, c.Upsample = GeneratorUNet, 3, true, true, 1, "resize"
			return c
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg(tinyConfig())
			c.LR = 0.02 // a few large steps move the weights far from their initial values
			s, sess := initializedStep(t, c, -1, size, 5, graph.SessionConfig{})
			r := rand.New(rand.NewSource(8))
			for i := 0; i < 4; i++ {
				if _, err := sess.Run(s.feeds(t, randBatch(r, n, size), n, size), nil, []*tf.Operation{s.Train}); err != nil {
					t.Fatal(err)
				}
			}
			prefix := filepath.Join(t.TempDir(), "ckpt")
			if err := s.Saver.Save(sess, prefix); err != nil {
				t.Fatal(err)
			}
			in := randBatch(r, n, size)
			fetch := append(append(append([]tf.Output(nil), s.Losses...), s.GenGrads...), s.DiscGrads...)
			out, err := sess.Run(s.feeds(t, in, n, size), fetch, nil)
			if err != nil {
				t.Fatal(err)
			}
			tensor := func(v []float32) map[string]any {
				return map[string]any{"shape": []int{n, size, size, 3}, "data": v}
			}
			req := map[string]any{"checkpoint": prefix, "config": c, "inputs": map[string]any{
				"woman": tensor(in.woman), "man": tensor(in.man), "pool_woman": tensor(in.poolWoman), "pool_man": tensor(in.poolMan),
				"use_current_woman": in.useWoman, "use_current_man": in.useMan},
				"gradients": true}
			var resp struct {
				Losses    map[string]float64
				Gradients map[string][]float64
			}
			if err := pycheck.RunJSON(filepath.Join("testdata", "reference_step.py"), req, &resp); err != nil {
				t.Fatal(err)
			}
			for i, name := range LossNames {
				got := float64(out[i].Value().(float32))
				want, ok := resp.Losses[name]
				if !ok {
					t.Fatalf("Python computed no %s", name)
				}
				// float32 arithmetic in two orders: agree to 1e-5 relative.
				if d := math.Abs(got - want); d > 1e-5*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: Go %.7g, Python %.7g (diff %.2g)", name, got, want, d)
				} else {
					t.Logf("%-12s Go %.7g Python %.7g", name, got, want)
				}
			}
			// Gradients, variable by variable: the Python tape's and the C++
			// registry's (what AddGradients builds and Adam applies). Summed
			// in other orders in float32 over up to thousands of terms, they
			// agree to 1e-3 of the gradient's norm (the residual ResNet's,
			// through atanh near its clip, reached 4.1e-4 on an Intel Xeon
			// with AVX-512 in some runs and not others), plus 1e-5 absolute
			// for the conv biases in front of an instance norm, whose true
			// gradient is 0 (the norm subtracts them) and whose computed one
			// is rounding noise of about 1e-6. A wrong or missing term (a
			// sign, a factor, a dropped path) moves it by far more: a U-Net
			// whose resize Python did not mirror was off by about the norm.
			grads := out[len(s.Losses):]
			vars := append(append([]*graph.Variable(nil), s.GenVars...), s.DiscVars...)
			if len(resp.Gradients) != len(vars) {
				t.Errorf("Python took %d gradients, Go %d", len(resp.Gradients), len(vars))
			}
			for i, v := range vars {
				got, err := graph.Float32s(grads[i])
				if err != nil {
					t.Fatal(err)
				}
				want, ok := resp.Gradients[v.Name]
				if !ok || len(want) != len(got) {
					t.Errorf("%s: Python has %d values, Go %d", v.Name, len(want), len(got))
					continue
				}
				var diff, norm float64
				for j := range got {
					diff += (float64(got[j]) - want[j]) * (float64(got[j]) - want[j])
					norm += want[j] * want[j]
				}
				diff, norm = math.Sqrt(diff), math.Sqrt(norm)
				if diff > 1e-3*norm+1e-5 {
					t.Errorf("gradient of %s: |Go - Python| = %.3g, |Python| = %.3g", v.Name, diff, norm)
				}
			}
		})
	}
}

func TestOneStepChangesEveryNetworkVariableOfItsOptimizerAndNoOther(t *testing.T) {
	const n, size = 1, 32
	s, err := NewStep(tinyConfig(), -1, size, 2)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.B.NewSession(graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	all := s.B.Variables()
	owned := map[*graph.Adam][]*graph.Variable{s.OptG: s.GenVars, s.OptD: s.DiscVars}
	for _, tc := range []struct {
		name  string
		apply *tf.Operation
		opt   *graph.Adam
	}{{"G and F", s.ApplyG, s.OptG}, {"D_woman and D_man", s.ApplyD, s.OptD}} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sess.Run(nil, nil, []*tf.Operation{s.Init}); err != nil {
				t.Fatal(err)
			}
			before, err := graph.Values(sess, all)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewSource(3))
			if _, err := sess.Run(s.feeds(t, randBatch(r, n, size), n, size), nil, []*tf.Operation{tc.apply}); err != nil {
				t.Fatal(err)
			}
			after, err := graph.Values(sess, all)
			if err != nil {
				t.Fatal(err)
			}
			mine := map[string]bool{}
			for _, v := range owned[tc.opt] {
				mine[v.Name] = true
			}
			for _, v := range tc.opt.Slots() {
				mine[v.Name] = true
			}
			mine[tc.opt.Beta1Power.Name], mine[tc.opt.Beta2Power.Name] = true, true
			for _, v := range all {
				changed := !sameValues(before[v.Name], after[v.Name])
				switch {
				case v.Trainable && mine[v.Name] && !changed:
					t.Errorf("%s is trained by this optimizer but did not change", v.Name)
				case !mine[v.Name] && changed:
					t.Errorf("%s is not this optimizer's but changed", v.Name)
				}
			}
		})
	}
}

func sameValues(a, b *tf.Tensor) bool {
	fa, _ := graph.Float32s(a)
	fb, _ := graph.Float32s(b)
	if len(fa) != len(fb) {
		return false
	}
	for i := range fa {
		if fa[i] != fb[i] {
			return false
		}
	}
	return true
}
