package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/dataset"
	"cyclegan/internal/imageio"
	"cyclegan/internal/precision"
	"cyclegan/internal/progress"
	"cyclegan/internal/tfrt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/sirupsen/logrus"
)

// Run directory layout.
const (
	dirCheckpoints = "checkpoints"
	dirSamples     = "samples"
	dirLogs        = "logs"
	dirExport      = "export"
	fileOptions    = "options.json"
	fileState      = "state.json"
	filePoolWoman  = "pool_woman.bin"
	filePoolMan    = "pool_man.bin"
	sampleCount    = 6
)

// state is what a checkpoint holds besides the variables.
type state struct {
	Step  int64            `json:"step"`  // steps done
	Epoch int              `json:"epoch"` // epoch of the next step
	Next  dataset.Position `json:"next"`  // data position of the next step
	Seed  int64            `json:"seed"`
}

// runConfig is the part of the options a checkpoint must agree with.
type runConfig struct {
	Model    cyclegan.Config `json:"model"`
	Size     int             `json:"size"`
	LoadSize int             `json:"load_size"`
	Batch    int             `json:"batch"`
	Pool     int             `json:"pool"`
	Seed     int64           `json:"seed"`
	Data     string          `json:"data"`
}

// stepHook, when set (by tests), sees every step's losses.
var stepHook func(step int64, losses []float32)

// trainer runs one training run.
type trainer struct {
	opt     Options
	log     *logrus.Logger
	files   *dataset.Files
	step    *cyclegan.Step
	sess    *tf.Session
	ckpts   *graph.Checkpoints
	summary *graph.SummaryWriter
	poolW   *Pool
	poolM   *Pool
	st      state
	samples [2][]float32 // fixed sample batches: women, men
	// lastSample is the step of the last sample grid written.
	lastSample int64
	stop       *atomic.Bool
	// timings holds each step's wall time and data wait, for -timings.
	timings []StepTiming
}

// StepTiming is one training step as -timings records it: the wall time of
// the whole iteration (waiting for the batch, feeding, the session run and
// the image pool), the part of it spent blocked waiting for the batch, and
// the part spent in the session run; the rest is Go-side overhead.
type StepTiming struct {
	Step   int64   `json:"step"`
	StepMS float64 `json:"step_ms"`
	WaitMS float64 `json:"wait_ms"`
	RunMS  float64 `json:"run_ms"`
}

func newTrainer(opt Options, files *dataset.Files, log *logrus.Logger, stop *atomic.Bool, target string) (*trainer, error) {
	flags, err := precision.CPUFlags()
	if err != nil && opt.Precision != precision.FP32 {
		return nil, err
	}
	prec, err := precision.Resolve(opt.Precision, flags, tfrt.OneDNNEnabled())
	if err != nil {
		return nil, err
	}
	if prec, err = clusterPrecision(opt.Precision, prec, target != ""); err != nil {
		return nil, err
	}
	log.WithFields(logrus.Fields{"precision": prec, "asked": opt.Precision}).Info("precision")
	t := &trainer{opt: opt, log: log, files: files, stop: stop, st: state{Seed: opt.Seed}}
	s, err := cyclegan.NewStep(opt.Model, int64(opt.Batch), int64(opt.Size), opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("build model: %w", err)
	}
	t.step = s
	t.summary = graph.NewSummaryWriter(s.B, "summary", append(append([]string{}, lossTags()...), "learning_rate", "images_per_second"))
	if err := s.B.Err(); err != nil {
		return nil, fmt.Errorf("build model: %w", err)
	}
	cfg := opt.sessionConfig(target)
	cfg.BF16 = prec == precision.BF16
	t.sess, err = s.B.NewSession(cfg)
	if err != nil {
		return nil, err
	}
	t.ckpts = &graph.Checkpoints{Dir: filepath.Join(opt.Out, dirCheckpoints), Saver: s.Saver}
	imgLen := opt.Size * opt.Size * 3
	t.poolW, t.poolM = NewPool(opt.PoolSize, imgLen), NewPool(opt.PoolSize, imgLen)
	return t, nil
}

func lossTags() []string {
	tags := make([]string, len(cyclegan.LossNames))
	for i, n := range cyclegan.LossNames {
		tags[i] = "loss/" + n
	}
	return tags
}

// clusterCloseWait bounds the wait for a cluster session to close.
const clusterCloseWait = 10 * time.Second

// close closes the session. On a cluster TensorFlow closes it on every task
// and waits forever for a task that died; after clusterCloseWait the close
// is left behind (the process is ending) with a warning.
func (t *trainer) close() {
	if t.opt.Cluster == "" {
		t.sess.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		t.sess.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(clusterCloseWait):
		t.log.WithFields(logrus.Fields{"cluster": t.opt.Cluster, "waited": clusterCloseWait}).
			Warn("the cluster session did not close: a task is unreachable; not waiting for it")
	}
}

func (t *trainer) config() runConfig {
	return runConfig{Model: t.opt.Model, Size: t.opt.Size, LoadSize: t.opt.LoadSize, Batch: t.opt.Batch,
		Pool: t.opt.PoolSize, Seed: t.opt.Seed, Data: t.files.Root}
}

// start initializes the variables, or restores the latest checkpoint. It
// refuses to start over a run that has checkpoints unless resuming.
func (t *trainer) start() error {
	latest, err := t.ckpts.Latest()
	if err != nil {
		return err
	}
	if latest != "" && !t.opt.Resume && !t.opt.ExportOnly {
		return fmt.Errorf("%s already holds checkpoints (latest %s): pass -resume to continue it, or choose another -out",
			t.opt.Out, latest)
	}
	if latest == "" {
		if t.opt.ExportOnly {
			return fmt.Errorf("-export-only: no checkpoint in %s", t.ckpts.Dir)
		}
		if t.opt.Resume {
			t.log.WithField("dir", t.ckpts.Dir).Info("no checkpoint to resume from: starting from scratch")
		}
		if _, err := t.sess.Run(nil, nil, []*tf.Operation{t.step.Init}); err != nil {
			return fmt.Errorf("initialize variables: %w", err)
		}
		return t.writeRunConfig()
	}
	if err := t.checkRunConfig(); err != nil {
		return err
	}
	extra, err := t.ckpts.Restore(t.sess, latest, fileState, filePoolWoman, filePoolMan)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(extra[fileState], &t.st); err != nil {
		return fmt.Errorf("checkpoint %s: %s: %w", latest, fileState, err)
	}
	if err := t.poolW.UnmarshalBinary(extra[filePoolWoman]); err != nil {
		return fmt.Errorf("checkpoint %s: %w", latest, err)
	}
	if err := t.poolM.UnmarshalBinary(extra[filePoolMan]); err != nil {
		return fmt.Errorf("checkpoint %s: %w", latest, err)
	}
	t.log.WithFields(logrus.Fields{"checkpoint": latest, "step": t.st.Step, "epoch": t.st.Epoch}).Info("restored")
	return nil
}

func (t *trainer) writeRunConfig() error {
	data, _ := json.MarshalIndent(t.config(), "", "  ")
	if err := os.MkdirAll(t.opt.Out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(t.opt.Out, fileOptions), data, 0o644)
}

// checkRunConfig refuses to resume with a model or data settings other than
// the checkpoint's.
func (t *trainer) checkRunConfig() error {
	data, err := os.ReadFile(filepath.Join(t.opt.Out, fileOptions))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	var saved runConfig
	if err := json.Unmarshal(data, &saved); err != nil {
		return fmt.Errorf("resume: %s: %w", filepath.Join(t.opt.Out, fileOptions), err)
	}
	now := t.config()
	// Placement (device, towers, cluster) may change between runs: a
	// checkpoint written by a cluster resumes on one machine.
	saved.Model.Device, now.Model.Device = "", ""
	saved.Model.Towers, now.Model.Towers = nil, nil
	saved.Model.LR, now.Model.LR = 0, 0 // the rate lives in the checkpoint
	a, _ := json.Marshal(saved)
	b, _ := json.Marshal(now)
	if string(a) != string(b) {
		return fmt.Errorf("resume: run %s was made with %s; these flags give %s", t.opt.Out, a, b)
	}
	return nil
}

// train runs the loop until all epochs are done, -max-steps is reached or a
// stop is requested; it checkpoints on the way out.
func (t *trainer) train(ctx context.Context) (stopped bool, err error) {
	loader, err := dataset.NewLoader(t.files, dataset.Config{LoadSize: t.opt.LoadSize, Size: t.opt.Size,
		Batch: t.opt.Batch, Seed: t.opt.Seed, Workers: t.opt.Workers, NoFlip: t.opt.NoFlip, Log: t.log}, t.st.Next)
	if err != nil {
		return false, err
	}
	defer func() {
		loader.Close()
		if n := loader.Skipped(); n > 0 {
			t.log.WithField("skipped", n).Warn("files skipped because they could not be read")
		}
	}()
	if err := t.loadSamples(); err != nil {
		return false, err
	}
	if err := t.summary.Open(t.sess, filepath.Join(t.opt.Out, dirLogs)); err != nil {
		return false, err
	}
	defer t.summary.Flush(t.sess)

	perEpoch := loader.StepsPerEpoch()
	total := int64(t.opt.Epochs+t.opt.DecayEpochs) * int64(perEpoch)
	if t.opt.MaxSteps > 0 {
		total = min(total, int64(t.opt.MaxSteps))
	}
	t.log.WithFields(logrus.Fields{"steps_per_epoch": perEpoch, "total_steps": total, "from_step": t.st.Step,
		"epochs": t.opt.Epochs + t.opt.DecayEpochs}).Info("training")
	bar := progress.New(os.Stderr, total, t.st.Step, "training", "steps")
	defer bar.Finish()

	lrEpoch := -1
	n := t.opt.Batch
	imgLen := t.opt.Size * t.opt.Size * 3
	oldW, oldM := make([]float32, n*imgLen), make([]float32, n*imgLen)
	shape := []int64{int64(n), int64(t.opt.Size), int64(t.opt.Size), 3}
	window := time.Now()
	windowSteps := 0
	var ips float64
	for t.st.Step < total {
		if t.stop.Load() {
			return true, t.checkpoint("")
		}
		if t.st.Epoch != lrEpoch {
			if err := t.setLearningRate(t.st.Epoch); err != nil {
				return false, err
			}
			lrEpoch = t.st.Epoch
		}
		began := time.Now()
		batch, err := loader.Next(ctx)
		if err != nil {
			return false, err
		}
		waited := time.Since(began)
		cw := t.poolW.plan(t.opt.Seed, "woman", t.st.Step, n, oldW)
		cm := t.poolM.plan(t.opt.Seed, "man", t.st.Step, n, oldM)
		feeds, err := t.feeds(shape, batch, oldW, oldM, cw, cm)
		if err != nil {
			return false, err
		}
		fetches := append([]tf.Output{t.step.FakeWoman, t.step.FakeMan}, t.step.Losses...)
		ran := time.Now()
		out, err := t.sess.Run(feeds, fetches, []*tf.Operation{t.step.Train})
		runTime := time.Since(ran)
		if err != nil {
			return false, t.stepError(err)
		}
		losses := make([]float32, len(t.step.Losses))
		for i, o := range out[2:] {
			losses[i] = o.Value().(float32)
			if math.IsNaN(float64(losses[i])) || math.IsInf(float64(losses[i]), 0) {
				return false, fmt.Errorf("step %d: loss %s is %v: stopping; the last good checkpoint in %s is kept",
					t.st.Step+1, cyclegan.LossNames[i], losses[i], t.ckpts.Dir)
			}
		}
		if stepHook != nil {
			stepHook(t.st.Step+1, losses)
		}
		fakeW, err := graph.Float32s(out[0])
		if err != nil {
			return false, err
		}
		fakeM, err := graph.Float32s(out[1])
		if err != nil {
			return false, err
		}
		t.poolW.commit(cw, fakeW)
		t.poolM.commit(cm, fakeM)
		loader.Release(batch)
		if t.opt.Timings != "" {
			t.timings = append(t.timings, StepTiming{Step: t.st.Step + 1,
				StepMS: ms(time.Since(began)), WaitMS: ms(waited), RunMS: ms(runTime)})
		}

		t.st.Step++
		prevEpoch := t.st.Epoch
		t.st.Next, t.st.Epoch = batch.Next, batch.Next.Epoch
		windowSteps++
		bar.Set(t.st.Step)

		if t.st.Step%int64(t.opt.LogEvery) == 0 || t.st.Step == total {
			ips = float64(windowSteps*n*2) / time.Since(window).Seconds()
			t.logStep(losses, ips, total)
			if err := t.summary.WriteScalars(t.sess, t.st.Step, append(losses, float32(t.opt.learningRate(prevEpoch)), float32(ips))); err != nil {
				return false, err
			}
			window, windowSteps = time.Now(), 0
		}
		epochEnd := t.st.Epoch != prevEpoch
		if epochEnd || (t.opt.SampleEvery > 0 && t.st.Step%int64(t.opt.SampleEvery) == 0) {
			if err := t.writeSamples(); err != nil {
				return false, err
			}
		}
		switch {
		case epochEnd && t.opt.KeepEvery > 0 && t.st.Epoch%t.opt.KeepEvery == 0:
			err = t.checkpoint(fmt.Sprintf("epoch-%04d", t.st.Epoch))
		case epochEnd || t.st.Step%int64(t.opt.CheckpointEvery) == 0:
			err = t.checkpoint("")
		}
		if err != nil {
			return false, err
		}
	}
	if err := t.writeTimings(); err != nil {
		return false, err
	}
	if t.lastSample != t.st.Step {
		if err := t.writeSamples(); err != nil {
			return false, err
		}
	}
	return false, t.checkpoint("")
}

// stepError says which step failed and, on a cluster, that a task may have
// stopped and how to go on from the last checkpoint.
func (t *trainer) stepError(err error) error {
	if t.opt.Cluster == "" {
		return fmt.Errorf("step %d: %w", t.st.Step+1, err)
	}
	return fmt.Errorf("step %d on cluster %s (towers %s): a task of the cluster failed or stopped: %w; "+
		"the latest checkpoint in %s resumes with -resume, on this cluster or on one machine without -cluster",
		t.st.Step+1, t.opt.Cluster, strings.Join(t.opt.Model.Towers, ","), err, t.ckpts.Dir)
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// peakRSSMB is this process's peak resident set (VmHWM) in MiB, or 0 where
// /proc/self/status does not say.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// writeTimings writes the steps' timings to -timings, if given, as JSON.
func (t *trainer) writeTimings() error {
	if t.opt.Timings == "" {
		return nil
	}
	// The process's peak RSS so far: the steps' own, before the final
	// samples, checkpoint and export.
	data, err := json.Marshal(map[string]any{"steps": t.timings, "peak_rss_mb": peakRSSMB()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(t.opt.Timings, data, 0o644); err != nil {
		return fmt.Errorf("-timings: %w", err)
	}
	return nil
}

func (t *trainer) feeds(shape []int64, b *dataset.Batch, oldW, oldM []float32, cw, cm []choice) (map[tf.Output]*tf.Tensor, error) {
	s := t.step
	feeds := map[tf.Output]*tf.Tensor{}
	for _, f := range []struct {
		out  tf.Output
		data any
	}{
		{s.Woman, b.A}, {s.Man, b.B}, {s.PoolWoman, oldW}, {s.PoolMan, oldM},
		{s.UseCurrentWoman, useCurrent(cw)}, {s.UseCurrentMan, useCurrent(cm)},
	} {
		tensor, err := tf.NewTensor(f.data)
		if err != nil {
			return nil, err
		}
		if _, ok := f.data.([]float32); ok {
			if err := tensor.Reshape(shape); err != nil {
				return nil, err
			}
		}
		feeds[f.out] = tensor
	}
	return feeds, nil
}

func useCurrent(cs []choice) []bool {
	u := make([]bool, len(cs))
	for i, c := range cs {
		u[i] = c.useCurrent
	}
	return u
}

// clusterPrecision is the precision resolved from asked for a session on a
// -cluster (remote) or not. A cluster trains in fp32: on its gRPC workers
// grappler fuses the bf16 rewrite's convolutions into _FusedConv2D, whose
// kernel there has no bf16 (TensorFlow 2.21), so auto falls back to fp32
// and an explicit bf16 is refused before anything starts.
func clusterPrecision(asked, resolved string, remote bool) (string, error) {
	if !remote || resolved != precision.BF16 {
		return resolved, nil
	}
	if asked == precision.BF16 {
		return "", fmt.Errorf("-precision bf16 does not run on a -cluster (its gRPC workers have no bf16 fused convolution); use -precision fp32 or auto")
	}
	return precision.FP32, nil
}

func (t *trainer) setLearningRate(epoch int) error {
	lr := t.opt.learningRate(epoch)
	if err := t.step.OptG.SetLearningRate(t.sess, lr); err != nil {
		return err
	}
	return t.step.OptD.SetLearningRate(t.sess, lr)
}

func (t *trainer) logStep(losses []float32, ips float64, total int64) {
	f := logrus.Fields{"epoch": t.st.Epoch, "step": t.st.Step, "images_per_s": fmt.Sprintf("%.2f", ips)}
	for i, n := range cyclegan.LossNames {
		f[n] = fmt.Sprintf("%.4f", losses[i])
	}
	if ips > 0 {
		left := float64(total-t.st.Step) * float64(2*t.opt.Batch) / ips
		f["eta"] = (time.Duration(left) * time.Second).Round(time.Second).String()
	}
	t.log.WithFields(f).Info("step")
}

// checkpoint saves the latest state under name (default: the step) and
// removes older checkpoints except kept epochs.
func (t *trainer) checkpoint(name string) error {
	tfrt.ReleaseFreeMemory()
	if name == "" {
		name = fmt.Sprintf("step-%09d", t.st.Step)
	}
	st, _ := json.Marshal(t.st)
	pw, err := t.poolW.MarshalBinary()
	if err != nil {
		return err
	}
	pm, err := t.poolM.MarshalBinary()
	if err != nil {
		return err
	}
	latest, err := t.ckpts.Latest()
	if err != nil {
		return err
	}
	if latest == name {
		return nil // this step is saved already
	}
	path, err := t.ckpts.Save(t.sess, name, map[string][]byte{fileState: st, filePoolWoman: pw, filePoolMan: pm})
	if err != nil {
		return err
	}
	t.log.WithFields(logrus.Fields{"step": t.st.Step, "path": path}).Debug("checkpoint")
	return t.ckpts.Prune(func(n string) bool { return strings.HasPrefix(n, "epoch-") })
}

// loadSamples takes the first sampleCount images of each domain, resized to
// the training size, as the fixed sample batch.
func (t *trainer) loadSamples() error {
	for d, files := range [][]string{t.files.A, t.files.B} {
		var batch []float32
		for _, f := range files {
			if len(batch) == sampleCount*t.opt.Size*t.opt.Size*3 {
				break
			}
			img, err := imageio.DecodeFile(f, 0)
			if err != nil {
				continue // the loader warns about it
			}
			img = imageio.Resize(img, t.opt.Size, t.opt.Size)
			buf := make([]float32, t.opt.Size*t.opt.Size*3)
			if err := imageio.ToFloat(buf, img); err != nil {
				return err
			}
			batch = append(batch, buf...)
		}
		if len(batch) == 0 {
			return errors.New("no readable image for the sample grid")
		}
		t.samples[d] = batch
	}
	return nil
}

// writeSamples writes the sample grid: per row a woman, F(woman) and
// G(F(woman)), then a man, G(man) and F(G(man)). With -ema the grid shows
// the averaged generators, the ones the export holds.
func (t *trainer) writeSamples() (err error) {
	tfrt.ReleaseFreeMemory()
	if e := t.step.EMA; e != nil {
		if _, err := t.sess.Run(nil, nil, []*tf.Operation{e.Swap}); err != nil {
			return fmt.Errorf("samples: use the averaged weights: %w", err)
		}
		defer func() {
			if _, serr := t.sess.Run(nil, nil, []*tf.Operation{e.Swap}); serr != nil && err == nil {
				err = fmt.Errorf("samples: restore the trained weights: %w", serr)
			}
		}()
	}
	sz := t.opt.Size
	imgLen := sz * sz * 3
	s := t.step
	n := min(len(t.samples[0]), len(t.samples[1])) / imgLen
	n -= n % s.Towers // every tower gets an equal share
	if n == 0 {
		return fmt.Errorf("samples: fewer sample images than the %d towers", s.Towers)
	}
	// One run per tower's worth of rows (one row without towers): the step
	// graph runs each generator on translation and identity together, so
	// all six rows at once ran it on 12 images (the trainer was at 5.3 GB
	// resident during that grid at 256x256).
	k := s.Towers
	cols := [][]float32{t.samples[0][:n*imgLen], nil, nil, t.samples[1][:n*imgLen], nil, nil}
	for row := 0; row < n; row += k {
		feeds := map[tf.Output]*tf.Tensor{}
		for i, o := range []tf.Output{s.Woman, s.Man} {
			x, err := tf.NewTensor(t.samples[i][row*imgLen : (row+k)*imgLen])
			if err != nil {
				return err
			}
			if err := x.Reshape([]int64{int64(k), int64(sz), int64(sz), 3}); err != nil {
				return err
			}
			feeds[o] = x
		}
		out, err := t.sess.Run(feeds, []tf.Output{s.FakeMan, s.RecWoman, s.FakeWoman, s.RecMan}, nil)
		if err != nil {
			return fmt.Errorf("samples: %w", err)
		}
		for i, c := range []int{1, 2, 4, 5} {
			v, err := graph.Float32s(out[i])
			if err != nil {
				return err
			}
			cols[c] = append(cols[c], v...)
		}
	}
	grid := image.NewNRGBA(image.Rect(0, 0, len(cols)*sz, n*sz))
	for c, data := range cols {
		imgs, err := imageio.ImagesFromFloat(data, n, sz, sz)
		if err != nil {
			return err
		}
		for r, img := range imgs {
			pasteAt(grid, img, c*sz, r*sz)
		}
	}
	path := filepath.Join(t.opt.Out, dirSamples, fmt.Sprintf("epoch%03d_step%07d.png", t.st.Epoch, t.st.Step))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := imageio.WriteFile(path, grid, 0); err != nil {
		return err
	}
	pix := make([]uint8, len(grid.Pix)/4*3)
	if err := imageio.ToUint8(pix, grid); err != nil {
		return err
	}
	img, err := tf.NewTensor(pix)
	if err != nil {
		return err
	}
	img.Reshape([]int64{1, int64(grid.Rect.Dy()), int64(grid.Rect.Dx()), 3})
	t.lastSample = t.st.Step
	t.log.WithFields(logrus.Fields{"step": t.st.Step, "path": path}).Info("samples")
	return t.summary.WriteImage(t.sess, t.st.Step, "samples", img)
}

func pasteAt(dst, src *image.NRGBA, x, y int) {
	for row := 0; row < src.Rect.Dy(); row++ {
		copy(dst.Pix[(y+row)*dst.Stride+x*4:], src.Pix[row*src.Stride:row*src.Stride+src.Rect.Dx()*4])
	}
}

// export writes the generators' SavedModel to the run's export folder.
func (t *trainer) export() error {
	var values map[string]*tf.Tensor
	var err error
	if t.step.EMA != nil {
		values, err = t.step.EMA.Values(t.sess)
	} else {
		values, err = graph.Values(t.sess, t.step.GenVars)
	}
	if err != nil {
		return err
	}
	if t.opt.Cluster == "" {
		// The training session is done once the generators' weights are
		// read: closing it here frees the variables, Adam's slots and the
		// step's buffers before the export builds a second graph and
		// session, so the two never add up in the process's peak memory.
		// (A cluster session is left to close(), which may have to give
		// up on a dead task.)
		if err := t.sess.Close(); err != nil {
			return fmt.Errorf("close the training session: %w", err)
		}
	}
	dir := filepath.Join(t.opt.Out, dirExport)
	// The export is built and saved in this process, whatever the run's
	// placement (a cluster's device names exist only in its session).
	m := t.opt.Model
	m.Device, m.Towers = "", nil
	if err := cyclegan.Export(dir, m, values); err != nil {
		return err
	}
	t.log.WithField("dir", dir).Info("exported SavedModel (signatures woman2man, man2woman, serving_default)")
	return nil
}
