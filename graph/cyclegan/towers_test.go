package cyclegan

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

const (
	cpu0 = "/device:CPU:0"
	cpu1 = "/device:CPU:1"
)

// Two towers on two logical CPUs, each on half the batch, must compute the
// whole batch's losses and gradients and so train to the same variables as
// one device.
func TestTwoTowersTrainLikeOneDeviceWithTheWholeBatch(t *testing.T) {
	const n, size, steps = 4, 16, 2
	c := tinyConfig()
	c.NGF, c.NDF, c.Blocks, c.DLayers = 4, 4, 1, 2
	one, sessOne := initializedStep(t, c, n, size, 5, graph.SessionConfig{})
	c.Device, c.Towers = cpu0, []string{cpu0, cpu1}
	two, sessTwo := initializedStep(t, c, n, size, 5, graph.SessionConfig{CPUDevices: 2})

	vars := append(append([]*graph.Variable(nil), one.GenVars...), one.DiscVars...)
	// drift[v][i] sums, over the steps, element i of v's relative gradient
	// difference between the runs (capped at 1): see the variables' check.
	drift := map[string][]float64{}
	r := rand.New(rand.NewSource(9))
	for step := 1; step <= steps; step++ {
		b := randBatch(r, n, size)
		fetch := func(s *Step, sess *tf.Session) [][]float32 {
			t.Helper()
			outs := append(append(append([]tf.Output{s.FakeWoman, s.FakeMan}, s.Losses...), s.GenGrads...), s.DiscGrads...)
			res, err := sess.Run(s.feeds(t, b, n, size), outs, []*tf.Operation{s.Train})
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			vals := make([][]float32, len(res))
			for i, x := range res {
				if vals[i], err = graph.Float32s(x); err != nil {
					t.Fatal(err)
				}
			}
			return vals
		}
		want, got := fetch(one, sessOne), fetch(two, sessTwo)
		names := append([]string{"FakeWoman", "FakeMan"}, LossNames...)
		for _, v := range append(append([]*graph.Variable(nil), one.GenVars...), one.DiscVars...) {
			names = append(names, "gradient of "+v.Name)
		}
		// float32 convolutions and means summed in another order (per
		// share, then averaged) differ in the last bits; after the deep
		// backward pass that is a few 1e-6 of the tensor's largest
		// element. 1e-4 of it allows that and is far below a share
		// mis-weighted or mis-aligned (errors of order 1).
		for i := range want {
			assertClose(t, fmt.Sprintf("step %d: %s", step, names[i]), got[i], want[i], 1e-4)
		}
		for j, v := range vars {
			g1, g2 := want[2+len(LossNames)+j], got[2+len(LossNames)+j]
			if drift[v.Name] == nil {
				drift[v.Name] = make([]float64, len(g1))
			}
			for i := range g1 {
				d := math.Abs(float64(g2[i]) - float64(g1[i]))
				drift[v.Name][i] += math.Min(1, d/math.Abs(float64(g1[i])))
			}
		}
	}
	vOne, err := graph.Values(sessOne, one.B.Variables())
	if err != nil {
		t.Fatal(err)
	}
	vTwo, err := graph.Values(sessTwo, two.B.Variables())
	if err != nil {
		t.Fatal(err)
	}
	lr := c.LR
	tight := 0
	for _, v := range one.B.Variables() {
		a, _ := graph.Float32s(vOne[v.Name])
		b, _ := graph.Float32s(vTwo[v.Name])
		if !v.Trainable {
			// Adam's moments and beta powers are linear or quadratic in
			// the gradients: twice the gradients' tolerance.
			assertClose(t, "variable "+v.Name, b, a, 2e-4)
			continue
		}
		if len(a) != len(b) {
			t.Fatalf("variable %s: %d values, want %d", v.Name, len(b), len(a))
		}
		for i := range a {
			// Adam moves an element by lr*m/(sqrt(v)+eps): about lr per
			// step whatever the gradient's scale, so a relative gradient
			// difference r moves it by at most about 2*lr*r more. Where
			// the gradients agree that is far below 1e-6 (float32
			// rounding of values of order 1, 1/200 of lr); where the
			// gradient is itself rounding noise (a conv bias before
			// instance norm has zero gradient in exact arithmetic) r is 1
			// and only 2*lr per step can be asked.
			tol := 1e-6 + 2*lr*drift[v.Name][i]
			if tol < 1e-5 {
				tight++
			}
			if d := math.Abs(float64(a[i]) - float64(b[i])); d > tol || math.IsNaN(d) {
				t.Errorf("variable %s element %d: two towers %g, one device %g (|diff| %.3g > %.3g)", v.Name, i, b[i], a[i], d, tol)
				break
			}
		}
	}
	total := graph.ParamCount(vars)
	// Most elements must get the tight check, or the comparison says little.
	if tight < int(total*9/10) {
		t.Fatalf("only %d of %d variable elements were compared within 1e-5", tight, total)
	}
	t.Logf("%d of %d variable elements compared within 1e-5", tight, total)

	// Placement: each tower's forward and backward ops ask for its device;
	// variables and their updates stay on the variables' device.
	count := map[string]int{}
	for _, o := range two.B.Graph().Operations() {
		name, dev := o.Name(), o.Device()
		switch {
		case strings.HasPrefix(name, "tower_1/gradients_"):
			if dev != cpu1 {
				t.Fatalf("tower 1 gradient op %s is on %q, want %s", name, dev, cpu1)
			}
			count["tower 1 gradients"]++
		case strings.HasPrefix(name, "tower_0/gradients_"):
			if dev != cpu0 {
				t.Fatalf("tower 0 gradient op %s is on %q, want %s", name, dev, cpu0)
			}
			count["tower 0 gradients"]++
		case o.Type() == "Conv2D" && dev == cpu1:
			count["tower 1 convolutions"]++
		case o.Type() == "VarHandleOp" || o.Type() == "ResourceApplyAdam":
			if dev != cpu0 {
				t.Fatalf("%s %s is on %q, want %s", o.Type(), name, dev, cpu0)
			}
		}
	}
	for _, k := range []string{"tower 0 gradients", "tower 1 gradients", "tower 1 convolutions"} {
		if count[k] == 0 {
			t.Errorf("no %s found", k)
		}
	}
}

func TestTowersRefuseABatchTheyCannotSplitEvenly(t *testing.T) {
	c := tinyConfig()
	c.Towers = []string{cpu0, cpu1}
	if _, err := NewStep(c, 3, 32, 1); err == nil || !strings.Contains(err.Error(), "multiple of the 2 towers") {
		t.Errorf("batch 3 on 2 towers: error %v", err)
	}
	c.Towers = []string{cpu0, ""}
	if err := c.Validate(); err == nil {
		t.Error("a tower without a device was accepted")
	}
}

// assertClose fails when some |got-want| exceeds rel times want's largest
// magnitude (or rel itself for an all-zero want).
func assertClose(t *testing.T, what string, got, want []float32, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	tol := rel * math.Max(maxAbs(want), 1)
	worst, at := 0.0, 0
	for i := range want {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > tol || math.IsNaN(worst) {
		t.Errorf("%s: element %d is %g, want %g (|diff| %.3g > %.3g)", what, at, got[at], want[at], worst, tol)
	}
}

func maxAbs(x []float32) float64 {
	m := 0.0
	for _, e := range x {
		m = math.Max(m, math.Abs(float64(e)))
	}
	return m
}
