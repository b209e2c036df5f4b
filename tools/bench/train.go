package main

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/pycheck"
	"cyclegan/internal/tfrt"
	"cyclegan/tools/faces"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
	"github.com/sirupsen/logrus"
)

//go:embed peer.py
var peerScript []byte

// writePeer writes the Python peer into work and returns its path.
func writePeer(work string) (string, error) {
	p := filepath.Join(work, "peer.py")
	return p, os.WriteFile(p, peerScript, 0o644)
}

// moduleRoot is the directory of go.mod, found from this file's path.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// buildProgram builds the module's command ./name (training or convert)
// and returns the binary's path. It lives in the user's cache directory, so
// that go build finds it up to date on the next run instead of linking it
// again.
func buildProgram(work, name string) (string, error) {
	bin := filepath.Join(work, name)
	if dir, err := os.UserCacheDir(); err == nil {
		bin = filepath.Join(dir, "cyclegan-bench", name)
	}
	cmd := exec.Command("go", "build", "-o", bin, "./"+name)
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./%s: %w\n%s", name, err, out)
	}
	return bin, nil
}

// trainData writes (once per work dir) a small synthetic training set at
// load size and returns its train/ folder.
func trainData(work string, loadSize int) (string, error) {
	root := filepath.Join(work, fmt.Sprintf("faces-%d", loadSize))
	if _, err := faces.EnsureDataset(root, faces.Options{Size: loadSize, TrainPerDomain: 32, TestPairs: 1, Seed: 1}); err != nil {
		return "", err
	}
	return filepath.Join(root, faces.TrainDir), nil
}

// loadSize is the reference's 286/256 resize-then-crop at any size.
func loadSize(size int) int { return size * 286 / 256 }

// goRun is one run of the Go trainer.
type goRun struct {
	steps, waits []float64 // ms, timed steps only
	runs         []float64 // ms in the session run
	peakRSSMB    float64   // the whole process: steps, final samples, checkpoint, export
	stepsRSSMB   float64   // at the end of the steps
}

func runGoTrainer(o Options, c benchConfig, work, bin string, round int) (goRun, error) {
	data, err := trainData(work, loadSize(c.Size))
	if err != nil {
		return goRun{}, err
	}
	out := filepath.Join(work, fmt.Sprintf("run-%d-%d", c.Size, round))
	os.RemoveAll(out)
	timings := filepath.Join(work, fmt.Sprintf("timings-%d-%d.json", c.Size, round))
	m := c.model()
	args := []string{"-data", data, "-out", out, "-size", strconv.Itoa(c.Size), "-load-size", strconv.Itoa(loadSize(c.Size)),
		"-ngf", strconv.Itoa(m.NGF), "-blocks", strconv.Itoa(m.Blocks), "-ndf", strconv.Itoa(m.NDF),
		"-upsample", m.Upsample, "-epochs", "1", "-decay-epochs", "0", "-max-steps", strconv.Itoa(c.Warmup + c.Steps),
		"-log-every", "1000000", "-checkpoint-every", "1000000", "-keep-every", "0",
		"-precision", o.Precision, "-intra-op-threads", strconv.Itoa(o.IntraOp), "-inter-op-threads", strconv.Itoa(o.InterOp),
		"-timings", timings}
	cmd := exec.Command(bin, args...)
	cmd.Env = tfrt.ChildEnv() // the trainer picks its own oneDNN default
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return goRun{}, fmt.Errorf("%s %v: %w\n%s", bin, args, err, log.String())
	}
	defer os.RemoveAll(out)
	var t struct {
		Steps []struct {
			StepMS float64 `json:"step_ms"`
			WaitMS float64 `json:"wait_ms"`
			RunMS  float64 `json:"run_ms"`
		} `json:"steps"`
		PeakRSSMB float64 `json:"peak_rss_mb"`
	}
	b, err := os.ReadFile(timings)
	if err != nil {
		return goRun{}, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return goRun{}, fmt.Errorf("%s: %w", timings, err)
	}
	if len(t.Steps) != c.Warmup+c.Steps {
		return goRun{}, fmt.Errorf("%s: %d steps, want %d", timings, len(t.Steps), c.Warmup+c.Steps)
	}
	r := goRun{stepsRSSMB: t.PeakRSSMB}
	for _, s := range t.Steps[c.Warmup:] {
		r.steps = append(r.steps, s.StepMS)
		r.waits = append(r.waits, s.WaitMS)
		r.runs = append(r.runs, s.RunMS)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.peakRSSMB = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return r, nil
}

// pyTrain is the peer's answer to a training request.
type pyTrain struct {
	StepMS    []float64        `json:"step_ms"`
	Params    map[string]int64 `json:"params"`
	PeakRSSMB float64          `json:"peak_rss_mb"`
	OneDNN    string           `json:"onednn"`
}

func runPyTrainer(c benchConfig, peer string) (pyTrain, error) {
	m := c.model()
	req := map[string]any{"mode": "train", "size": c.Size, "ngf": m.NGF, "blocks": m.Blocks, "ndf": m.NDF,
		"dlayers": m.DLayers, "upsample": m.Upsample, "warmup": c.Warmup, "steps": c.Steps, "seed": 1}
	var resp pyTrain
	if err := pycheck.RunJSONAtDefaults(peer, req, &resp); err != nil {
		return resp, err
	}
	if len(resp.StepMS) != c.Steps {
		return resp, fmt.Errorf("peer timed %d steps, want %d", len(resp.StepMS), c.Steps)
	}
	return resp, nil
}

// benchTrain measures config c: Go and Python runs alternate, -rounds
// times each, and the medians are taken over every timed step.
func benchTrain(o Options, c benchConfig, work, bin, peer string, log *logrus.Logger) (Result, error) {
	r := Result{Kind: "train", Config: c.Name, Unit: "ms/step", Precision: o.Precision, GoOneDNN: tfrt.OneDNNEnabled()}
	var goSteps, pySteps []float64
	var wait, run, total float64
	var loads []string
	for round := 0; round < o.Rounds; round++ {
		for _, side := range sides(round) {
			start := time.Now()
			loads = append(loads, loadAvg())
			if side == "go" {
				g, err := runGoTrainer(o, c, work, bin, round)
				if err != nil {
					return r, err
				}
				goSteps = append(goSteps, g.steps...)
				for i := range g.steps {
					wait += g.waits[i]
					run += g.runs[i]
					total += g.steps[i]
				}
				r.GoPeakRSSMB = max(r.GoPeakRSSMB, g.peakRSSMB)
				r.GoStepsRSSMB = max(r.GoStepsRSSMB, g.stepsRSSMB)
				log.WithFields(logrus.Fields{"config": c.Name, "round": round, "steps_ms": g.steps, "wall": elapsed(start)}).Info("go")
				continue
			}
			p, err := runPyTrainer(c, peer)
			if err != nil {
				return r, err
			}
			pySteps = append(pySteps, p.StepMS...)
			r.PyPeakRSSMB = max(r.PyPeakRSSMB, p.PeakRSSMB)
			match := paramsMatch(c, p.Params)
			r.ParamsMatch = &match
			if !match {
				log.WithFields(logrus.Fields{"config": c.Name, "python": p.Params}).Warn("parameter counts differ from Go's")
			}
			log.WithFields(logrus.Fields{"config": c.Name, "round": round, "steps_ms": p.StepMS, "onednn": p.OneDNN, "wall": elapsed(start)}).Info("python")
		}
	}
	r.GoSteps, r.PySteps = append([]float64(nil), goSteps...), append([]float64(nil), pySteps...)
	r.Go, r.Python = median(goSteps), median(pySteps)
	r.Ratio = r.Go / r.Python
	r.DataWaitPct = 100 * wait / total
	r.GoOverheadPct = 100 * (total - wait - run) / total
	r.GFLOPPerStep = stepFLOPs(c.model(), c.Size) / 1e9
	r.GoGFLOPS = r.GFLOPPerStep / (r.Go / 1000)
	r.PyGFLOPS = r.GFLOPPerStep / (r.Python / 1000)
	r.Load = loads[0]
	if len(loads) > 1 {
		r.Load = fmt.Sprintf("%s .. %s", loads[0], loads[len(loads)-1])
	}
	return r, nil
}

// sides alternates which side runs first in each round.
func sides(round int) []string {
	if round%2 == 0 {
		return []string{"go", "python"}
	}
	return []string{"python", "go"}
}

// paramsMatch compares the peer's parameter counts with Go's.
func paramsMatch(c benchConfig, py map[string]int64) bool {
	s, err := cyclegan.NewStep(c.model(), 1, int64(c.Size), 1)
	if err != nil {
		return false
	}
	for name, n := range s.ParamCounts() {
		if py[name] != n {
			return false
		}
	}
	return len(py) == 4
}

// matmulCeiling measures this machine's dense float32 throughput through
// TensorFlow: the best of several n x n MatMuls, in GFLOP/s.
func matmulCeiling(n, intra, inter int) (float64, error) {
	s := op.NewScope()
	a := op.Placeholder(s.SubScope("a"), tf.Float, op.PlaceholderShape(tf.MakeShape(int64(n), int64(n))))
	b := op.Placeholder(s.SubScope("b"), tf.Float, op.PlaceholderShape(tf.MakeShape(int64(n), int64(n))))
	// Sum the product so that only a scalar crosses back into Go.
	prod := op.MatMul(s, a, b)
	sum := op.Sum(s, prod, op.Const(s.SubScope("axes"), []int32{0, 1}))
	g, err := s.Finalize()
	if err != nil {
		return 0, err
	}
	opts, err := graph.SessionOptions(graph.SessionConfig{IntraOpThreads: intra, InterOpThreads: inter})
	if err != nil {
		return 0, err
	}
	sess, err := tf.NewSession(g, opts)
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float32, n*n)
	for i := range vals {
		vals[i] = rng.Float32()
	}
	feeds := map[tf.Output]*tf.Tensor{}
	for _, p := range []tf.Output{a, b} {
		t, err := tf.NewTensor(vals)
		if err != nil {
			return 0, err
		}
		if err := t.Reshape([]int64{int64(n), int64(n)}); err != nil {
			return 0, err
		}
		feeds[p] = t
	}
	best := 0.0
	for i := 0; i < 6; i++ {
		start := time.Now()
		if _, err := sess.Run(feeds, []tf.Output{sum}, nil); err != nil {
			return 0, fmt.Errorf("matmul: %w", err)
		}
		if i > 0 { // the first run allocates and plans
			best = max(best, 2*float64(n)*float64(n)*float64(n)/time.Since(start).Seconds()/1e9)
		}
	}
	return best, nil
}

// traceStep runs the training step of c once with TensorFlow's full trace
// (after one untraced warm-up step) and returns the op types that took the
// most time, with their share of the summed op time.
func traceStep(o Options, c benchConfig, bf16 bool) ([]tfrt.OpTime, error) {
	s, err := cyclegan.NewStep(c.model(), -1, int64(c.Size), 1)
	if err != nil {
		return nil, err
	}
	opts, err := graph.SessionOptions(graph.SessionConfig{IntraOpThreads: o.IntraOp, InterOpThreads: o.InterOp, BF16: bf16})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	img := func() tfrt.Feed {
		data := make([]byte, 4*c.Size*c.Size*3)
		for i := 0; i < len(data); i += 4 {
			binary.LittleEndian.PutUint32(data[i:], math.Float32bits(2*rng.Float32()-1))
		}
		return tfrt.Feed{DType: tf.Float, Shape: []int64{1, int64(c.Size), int64(c.Size), 3}, Data: data}
	}
	yes := tfrt.Feed{DType: tf.Bool, Shape: []int64{1}, Data: []byte{1}}
	feeds := map[string]tfrt.Feed{s.Woman.Op.Name(): img(), s.Man.Op.Name(): img(), s.PoolWoman.Op.Name(): img(),
		s.PoolMan.Op.Name(): img(), s.UseCurrentWoman.Op.Name(): yes, s.UseCurrentMan.Op.Name(): yes}
	tr, err := tfrt.TraceRun(s.B.Graph(), opts.Config, []string{s.Init.Name()}, feeds, []string{s.Train.Name()}, 1)
	if err != nil {
		return nil, err
	}
	return tr.ByOp[:min(len(tr.ByOp), 10)], nil
}
