// Command bench measures the CycleGAN's training step and conversion from
// Go side by side with the same model in Python TensorFlow (peer.py), on
// this machine, in one run:
//
//	go run ./tools/bench [-json] [-quick] [-rounds N] [-precision auto|fp32|bf16]
//
// Training: ms/step (median after warm-up) of the real trainer
// (./training, built and run once per config and round, so each config's
// peak RSS is its own), its data wait, and the analytic FLOPs of a step
// against a MatMul ceiling measured in the same run. Convert: images/s of
// a SavedModel, PNG decode and encode included. Go and Python runs
// alternate, so that load from other processes hits both alike.
//
// With -json it prints one object per measurement: kind (train|convert),
// config, go, python and ratio = go / python (ms/step for train: lower is
// better; images/s for convert: higher is better), plus the details.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"cyclegan/graph/cyclegan"
	"cyclegan/internal/precision"
	"cyclegan/internal/tfrt"

	"github.com/sirupsen/logrus"
)

// benchConfig is one model configuration measured.
type benchConfig struct {
	Name          string
	Size, NGF     int
	Blocks        int
	Warmup, Steps int // training steps before timing, and timed
	ConvertImages int // images converted (0: no convert measurement)
}

// model returns the architecture of c: the reference's, at c's width and
// depth.
func (c benchConfig) model() cyclegan.Config {
	m := cyclegan.DefaultConfig()
	m.NGF, m.Blocks = c.NGF, c.Blocks
	return m
}

// Result is one measurement, as -json prints it.
type Result struct {
	Kind   string  `json:"kind"` // train or convert
	Config string  `json:"config"`
	Go     float64 `json:"go"`     // train: ms/step; convert: images/s
	Python float64 `json:"python"` // the same for the Python peer
	Ratio  float64 `json:"ratio"`  // go / python
	Unit   string  `json:"unit"`

	Precision   string  `json:"precision,omitempty"`
	GoOneDNN    bool    `json:"go_onednn,omitempty"` // train: the Go trainer ran TensorFlow's oneDNN kernels (its default)
	DataWaitPct float64 `json:"data_wait_pct"`
	// GoOverheadPct is the share of a Go step outside the session run and
	// the data wait: feeds, fetches, the image pool, bookkeeping.
	GoOverheadPct float64 `json:"go_overhead_pct,omitempty"`
	// GoPeakRSSMB is the Go trainer process's peak RSS, its final samples,
	// checkpoint and export included; GoStepsRSSMB the peak during the steps.
	GoPeakRSSMB   float64 `json:"go_peak_rss_mb,omitempty"`
	GoStepsRSSMB  float64 `json:"go_steps_peak_rss_mb,omitempty"`
	PyPeakRSSMB   float64 `json:"python_peak_rss_mb,omitempty"`
	GFLOPPerStep  float64 `json:"gflop_per_step,omitempty"`
	GoGFLOPS      float64 `json:"go_gflops,omitempty"`
	PyGFLOPS      float64 `json:"python_gflops,omitempty"`
	CeilingGFLOPS float64 `json:"ceiling_gflops,omitempty"`
	GoEfficiency  float64 `json:"go_efficiency,omitempty"` // GoGFLOPS / CeilingGFLOPS
	// GoTimeByOp is where a Go step's time went when its efficiency is
	// under half the ceiling (TensorFlow's step stats, top op types).
	GoTimeByOp  []tfrt.OpTime `json:"go_time_by_op,omitempty"`
	GoSteps     []float64     `json:"go_steps_ms,omitempty"`
	PySteps     []float64     `json:"python_steps_ms,omitempty"`
	ParamsMatch *bool         `json:"params_match,omitempty"`
	Load        string        `json:"load"` // /proc/loadavg during the measurement
}

// Options configures a benchmark run (see the flags in run).
type Options struct {
	JSON, Quick, Trace  bool
	Rounds              int
	Precision           string // resolved to fp32 or bf16 before measuring
	IntraOp, InterOp    int
	Work, Only          string
	Warmup, Steps       int
	RefWarmup, RefSteps int // at 256x256
}

func main() {
	log := logrus.New()
	log.SetOutput(os.Stderr)
	if err := tfrt.DefaultRuntime(false, 0); err != nil {
		log.WithError(err).Warn("oneDNN stays off")
	}
	os.Exit(run(os.Args[1:], os.Stdout, log))
}

// run is the whole program; it returns the exit status.
func run(args []string, stdout io.Writer, log *logrus.Logger) int {
	var o Options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per measurement instead of a table")
	fs.BoolVar(&o.Quick, "quick", false, "one tiny config and one step: checks that the harness works (seconds, not a measurement)")
	fs.IntVar(&o.Rounds, "rounds", 1, "alternating Go/Python rounds per config (medians over all timed steps)")
	fs.IntVar(&o.Warmup, "warmup", 2, "warm-up steps before timing (64 and 128)")
	fs.IntVar(&o.Steps, "steps", 5, "timed steps per round (64 and 128)")
	fs.IntVar(&o.RefWarmup, "ref-warmup", 1, "warm-up steps at 256 (the reference config)")
	fs.IntVar(&o.RefSteps, "ref-steps", 3, "timed steps per round at 256")
	fs.StringVar(&o.Precision, "precision", "auto", "training precision passed to ./training: auto, fp32 or bf16")
	fs.IntVar(&o.IntraOp, "intra-op-threads", 0, "TensorFlow intra-op threads for the Go side (0: TensorFlow's choice)")
	fs.IntVar(&o.InterOp, "inter-op-threads", 0, "TensorFlow inter-op threads for the Go side (0: TensorFlow's choice)")
	fs.StringVar(&o.Work, "work", "", "scratch `DIR` (default: a temporary one, removed at the end)")
	fs.BoolVar(&o.Trace, "trace", true, "where a config's Go step reaches under half the MatMul ceiling, trace one step and show the time by op type")
	fs.StringVar(&o.Only, "only", "", "comma-separated config names to run (e.g. train-64,convert-64); empty: all")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if err := tfrt.Check(); err != nil {
		log.Error(err)
		return 1
	}
	results, err := benchmark(o, log)
	if err != nil {
		log.Error(err)
		return 1
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				log.Error(err)
				return 1
			}
		}
		return 0
	}
	printTable(stdout, results)
	return 0
}

// configs returns the configs to measure.
func configs(o Options) []benchConfig {
	if o.Quick {
		return []benchConfig{{Name: "32x32 ngf8 1blk", Size: 32, NGF: 8, Blocks: 1, Warmup: 1, Steps: 1, ConvertImages: 17}}
	}
	return []benchConfig{
		{Name: "64x64 ngf32 6blk", Size: 64, NGF: 32, Blocks: 6, Warmup: o.Warmup, Steps: o.Steps, ConvertImages: 64},
		{Name: "128x128 ngf64 6blk", Size: 128, NGF: 64, Blocks: 6, Warmup: o.Warmup, Steps: o.Steps},
		{Name: "256x256 ngf64 9blk", Size: 256, NGF: 64, Blocks: 9, Warmup: o.RefWarmup, Steps: o.RefSteps, ConvertImages: 8},
	}
}

func selected(o Options, kind string, c benchConfig) bool {
	if o.Only == "" {
		return true
	}
	for _, s := range strings.Split(o.Only, ",") {
		if s == fmt.Sprintf("%s-%d", kind, c.Size) {
			return true
		}
	}
	return false
}

func benchmark(o Options, log *logrus.Logger) ([]Result, error) {
	if o.Rounds < 1 {
		return nil, fmt.Errorf("-rounds %d: want at least 1", o.Rounds)
	}
	flags, err := precision.CPUFlags()
	if err != nil && o.Precision != precision.FP32 {
		return nil, err
	}
	if o.Precision, err = precision.Resolve(o.Precision, flags, tfrt.OneDNNEnabled()); err != nil {
		return nil, err
	}
	work := o.Work
	if work == "" {
		dir, err := os.MkdirTemp("", "bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	peer, err := writePeer(work)
	if err != nil {
		return nil, err
	}
	n := 3072
	if o.Quick {
		n = 256
	}
	ceiling, err := matmulCeiling(n, o.IntraOp, o.InterOp)
	if err != nil {
		return nil, err
	}
	log.WithFields(logrus.Fields{"gflops": fmt.Sprintf("%.1f", ceiling), "n": n}).Info("MatMul ceiling")

	var results []Result
	var trainer string
	for _, c := range configs(o) {
		if !selected(o, "train", c) {
			continue
		}
		if trainer == "" {
			if trainer, err = buildProgram(work, "training"); err != nil {
				return nil, err
			}
		}
		r, err := benchTrain(o, c, work, trainer, peer, log)
		if err != nil {
			return nil, fmt.Errorf("train %s: %w", c.Name, err)
		}
		r.CeilingGFLOPS = ceiling
		r.GoEfficiency = r.GoGFLOPS / ceiling
		if o.Trace && r.GoEfficiency < 0.5 {
			start := time.Now()
			if r.GoTimeByOp, err = traceStep(o, c, r.Precision == precision.BF16); err != nil {
				return nil, fmt.Errorf("trace %s: %w", c.Name, err)
			}
			log.WithFields(logrus.Fields{"config": c.Name, "by_op": r.GoTimeByOp, "wall": elapsed(start)}).Info("go step stats")
		}
		results = append(results, r)
	}
	var converter string
	for _, c := range configs(o) {
		if c.ConvertImages == 0 || !selected(o, "convert", c) {
			continue
		}
		if converter == "" {
			if converter, err = buildProgram(work, "convert"); err != nil {
				return nil, err
			}
		}
		r, err := benchConvert(o, c, work, converter, peer, log)
		if err != nil {
			return nil, fmt.Errorf("convert %s: %w", c.Name, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// median of xs (which it sorts).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func printTable(w io.Writer, rs []Result) {
	fmt.Fprintf(w, "%-8s %-20s %12s %12s %7s  %s\n", "kind", "config", "go", "python", "go/py", "details")
	for _, r := range rs {
		var d string
		if r.Kind == "train" {
			d = fmt.Sprintf("precision %s, data wait %.2f%%, go overhead %.2f%%, peak RSS go %.0f MB (steps %.0f) / py %.0f MB, %.1f GFLOP/step, go %.1f GFLOP/s = %.0f%% of %.1f, py %.1f GFLOP/s",
				r.Precision, r.DataWaitPct, r.GoOverheadPct, r.GoPeakRSSMB, r.GoStepsRSSMB, r.PyPeakRSSMB, r.GFLOPPerStep, r.GoGFLOPS, 100*r.GoEfficiency, r.CeilingGFLOPS, r.PyGFLOPS)
		}
		fmt.Fprintf(w, "%-8s %-20s %12.2f %12.2f %7.3f  %s; load %s\n", r.Kind, r.Config, r.Go, r.Python, r.Ratio, r.Unit+" "+d, r.Load)
		if len(r.GoTimeByOp) > 0 {
			var ops []string
			for _, o := range r.GoTimeByOp {
				ops = append(ops, fmt.Sprintf("%s %.1f%%", o.Op, 100*o.Share))
			}
			fmt.Fprintf(w, "%-8s %-20s go step time by op: %s\n", "", "", strings.Join(ops, ", "))
		}
	}
}

// elapsed is a helper for logs.
func elapsed(start time.Time) string { return time.Since(start).Round(time.Second).String() }
