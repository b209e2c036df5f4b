package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"cyclegan/graph/cyclegan"
	"cyclegan/internal/precision"
)

// Options is everything a training run is configured by. Flags default to
// the reference implementation's values where it has one.
type Options struct {
	Data      string // ROOT with woman/ and man/ (or trainA/ and trainB/); "" = built-in synthetic faces
	Synthetic string // where the synthetic data set is cached
	Out       string // run directory

	LoadSize, Size, Batch int
	Epochs, DecayEpochs   int
	PoolSize              int
	Model                 cyclegan.Config

	Seed            int64
	CheckpointEvery int // steps
	KeepEvery       int // epochs: keep such checkpoints for good
	SampleEvery     int // steps (0: only at each epoch's end)
	LogEvery        int // steps
	MaxSteps        int // stop after this many steps in total (0: no limit)
	Resume          bool
	ExportOnly      bool
	Workers         int
	IntraOp         int
	InterOp         int
	NoFlip          bool
	Timings         string // write per-step wall times here (JSON), for tools/bench
	Precision       string // auto, fp32 or bf16 (internal/precision)

	// set records the flags given on the command line.
	set map[string]bool
}

// parseOptions reads the command line. The built-in default run (no -data)
// changes the defaults of the flags that were not given, so it finishes in
// minutes on two cores; overridden reports which.
func parseOptions(args []string, stderr io.Writer) (opt Options, overridden []string, err error) {
	fs := flag.NewFlagSet("training", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := cyclegan.DefaultConfig()
	fs.StringVar(&opt.Data, "data", "", "data `ROOT` holding woman/ and man/ (or trainA/ and trainB/), read recursively; empty: the built-in synthetic faces")
	fs.StringVar(&opt.Synthetic, "synthetic", "data/synthetic", "where the built-in synthetic face set is generated and cached")
	fs.StringVar(&opt.Out, "out", "runs/woman2man", "run `DIR`: checkpoints/, samples/, logs/, export/")
	fs.IntVar(&opt.LoadSize, "load-size", 286, "resize images to this square size before cropping (bicubic)")
	fs.IntVar(&opt.Size, "size", 256, "random crop size: the size the model trains at")
	fs.IntVar(&opt.Batch, "batch", 1, "images of each domain per step")
	fs.IntVar(&opt.Epochs, "epochs", 100, "epochs at the initial learning rate")
	fs.IntVar(&opt.DecayEpochs, "decay-epochs", 100, "epochs over which the learning rate then decays linearly towards 0")
	fs.IntVar(&opt.PoolSize, "pool", 50, "image pool size: past fakes per domain the discriminators train on (0: none)")
	fs.Float64Var(&m.LR, "lr", m.LR, "Adam learning rate")
	fs.Float64Var(&m.Beta1, "beta1", m.Beta1, "Adam beta1")
	fs.Float64Var(&m.Lambda, "lambda", m.Lambda, "cycle-consistency loss weight")
	fs.Float64Var(&m.Identity, "identity", m.Identity, "identity loss weight, as a fraction of -lambda")
	fs.IntVar(&m.NGF, "ngf", m.NGF, "generator filters in the first conv layer")
	fs.IntVar(&m.NDF, "ndf", m.NDF, "discriminator filters in the first conv layer")
	fs.IntVar(&m.Blocks, "blocks", m.Blocks, "residual blocks in each generator (9, or 6 for smaller images)")
	fs.IntVar(&m.DLayers, "d-layers", m.DLayers, "stride-2 conv layers of the PatchGAN (3: the 70x70 PatchGAN)")
	fs.StringVar(&m.Upsample, "upsample", m.Upsample, "generator upsampling: transpose (the paper's) or resize (nearest resize + conv, no checkerboard artifacts)")
	fs.StringVar(&m.GANLoss, "gan-loss", m.GANLoss, "adversarial loss: bce (binary cross-entropy, the original's) or lsgan")
	fs.StringVar(&m.Device, "device", "", "device for the model, e.g. /device:GPU:0 (soft placement falls back to the CPU)")
	fs.Int64Var(&opt.Seed, "seed", 1, "seed for initialization, data order, augmentation and the image pool")
	fs.IntVar(&opt.CheckpointEvery, "checkpoint-every", 500, "write the latest checkpoint every N steps (and at each epoch's end)")
	fs.IntVar(&opt.KeepEvery, "keep-every", 10, "keep the checkpoint of every N-th epoch for good (0: only the latest)")
	fs.IntVar(&opt.SampleEvery, "sample-every", 0, "write a sample grid every N steps (0: at each epoch's end only)")
	fs.IntVar(&opt.LogEvery, "log-every", 50, "log the losses every N steps")
	fs.IntVar(&opt.MaxSteps, "max-steps", 0, "stop after N steps in total, checkpoint and export (0: train all epochs)")
	fs.BoolVar(&opt.Resume, "resume", false, "continue from the latest checkpoint in -out (starts from scratch if there is none)")
	fs.BoolVar(&opt.ExportOnly, "export-only", false, "export the SavedModel from the latest checkpoint in -out and exit")
	fs.IntVar(&opt.Workers, "workers", 0, "image decoding goroutines (0: one per core)")
	fs.IntVar(&opt.IntraOp, "intra-op-threads", 0, "TensorFlow intra-op threads (0: one per core)")
	fs.IntVar(&opt.InterOp, "inter-op-threads", 0, "TensorFlow inter-op threads (0: TensorFlow's choice)")
	fs.BoolVar(&opt.NoFlip, "no-flip", false, "do not flip images horizontally at random")
	fs.StringVar(&opt.Precision, "precision", precision.Auto, "training precision: auto (bf16 where the CPU has bf16 arithmetic, else fp32), fp32, or bf16 (oneDNN auto mixed precision; variables stay fp32)")
	fs.StringVar(&opt.Timings, "timings", "", "write every step's wall time and data wait as JSON to `FILE` (what tools/bench reads)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./training [flags]\n\n"+
			"Trains the woman <-> man CycleGAN and exports a SavedModel to -out/export.\n"+
			"With no -data it generates synthetic faces and runs a small model that\n"+
			"finishes in minutes on two cores (see the log for the settings it picks).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return opt, nil, err
	}
	if fs.NArg() > 0 {
		return opt, nil, fmt.Errorf("unexpected arguments %q (flags only; see -h)", fs.Args())
	}
	opt.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { opt.set[f.Name] = true })
	opt.Model = m
	if opt.Data == "" {
		overridden = opt.applyDefaultRun()
	}
	return opt, overridden, opt.validate()
}

// defaultRun is the built-in run on synthetic 64x64 faces, measured to
// finish within 15 minutes on 2 cores (see README): a quarter-width
// generator with 4 blocks, nearest-resize upsampling (the transposed conv's
// checkerboard shows at this budget) and a higher learning rate, which in
// our trials turned faces visibly in 1000 steps where 2e-4 had not.
var defaultRun = []struct {
	flag string
	set  func(o *Options)
}{
	{"load-size", func(o *Options) { o.LoadSize = 70 }},
	{"size", func(o *Options) { o.Size = 64 }},
	{"ngf", func(o *Options) { o.Model.NGF = 16 }},
	{"ndf", func(o *Options) { o.Model.NDF = 32 }},
	{"blocks", func(o *Options) { o.Model.Blocks = 4 }},
	{"upsample", func(o *Options) { o.Model.Upsample = "resize" }},
	{"lr", func(o *Options) { o.Model.LR = 5e-4 }},
	{"epochs", func(o *Options) { o.Epochs = 2 }},
	{"decay-epochs", func(o *Options) { o.DecayEpochs = 1 }},
	{"keep-every", func(o *Options) { o.KeepEvery = 0 }},
	{"sample-every", func(o *Options) { o.SampleEvery = 500 }},
}

func (o *Options) applyDefaultRun() (overridden []string) {
	for _, d := range defaultRun {
		if !o.set[d.flag] {
			d.set(o)
			overridden = append(overridden, d.flag)
		}
	}
	return overridden
}

func (o *Options) validate() error {
	var errs []string
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Sprintf(format, a...))
		}
	}
	check(o.Size >= 8, "-size %d: want at least 8", o.Size)
	check(o.Size%4 == 0, "-size %d: want a multiple of 4 (two stride-2 layers)", o.Size)
	check(o.LoadSize >= o.Size, "-load-size %d: want at least -size %d", o.LoadSize, o.Size)
	check(o.Batch >= 1, "-batch %d: want at least 1", o.Batch)
	check(o.Epochs >= 0 && o.DecayEpochs >= 0 && o.Epochs+o.DecayEpochs > 0, "-epochs %d -decay-epochs %d: want non-negative, at least one in all", o.Epochs, o.DecayEpochs)
	check(o.PoolSize >= 0, "-pool %d: want 0 or more", o.PoolSize)
	check(o.CheckpointEvery >= 1, "-checkpoint-every %d: want at least 1", o.CheckpointEvery)
	check(o.KeepEvery >= 0 && o.SampleEvery >= 0 && o.LogEvery >= 1 && o.MaxSteps >= 0,
		"-keep-every, -sample-every and -max-steps want 0 or more, -log-every at least 1")
	check(!(o.Resume && o.ExportOnly), "-resume and -export-only exclude each other")
	if err := o.Model.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return errors.New("bad flags: " + strings.Join(errs, "; "))
	}
	return nil
}

// learningRate is the reference schedule: constant for Epochs, then linear
// decay over DecayEpochs (epoch counted from 0).
func (o *Options) learningRate(epoch int) float64 {
	f := 1 - float64(max(0, epoch+1-o.Epochs))/float64(o.DecayEpochs+1)
	return o.Model.LR * max(f, 0)
}
