package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cyclegan/graph/cyclegan"
	"cyclegan/internal/precision"
	"cyclegan/tools/faces"
)

func TestShortRunOnSyntheticFacesLowersCycleLoss(t *testing.T) {
	// The same short run twice: with a learning rate, and with one too
	// small to learn anything, as the control for batch-to-batch noise.
	cycleLoss := func(lr string) (first, last float64) {
		var cycle []float64
		stepHook = func(_ int64, losses []float32) {
			cycle = append(cycle, float64(losses[2]+losses[3])) // cycle_woman + cycle_man
		}
		defer func() { stepHook = nil }()
		mustTrain(t, tinyArgs(tinyData(t), t.TempDir(), "-epochs", "6", "-lr", lr)...)
		if len(cycle) != 7*24 {
			t.Fatalf("%d steps, want %d", len(cycle), 7*24)
		}
		return mean(cycle[:24]), mean(cycle[len(cycle)-24:])
	}
	first, last := cycleLoss("2e-3")
	cFirst, cLast := cycleLoss("1e-12")
	t.Logf("cycle loss, first and last 24 steps: training %.3f -> %.3f, control %.3f -> %.3f", first, last, cFirst, cLast)
	if last > 0.85*first {
		t.Errorf("training: cycle loss went from %.3f to %.3f, want at least a 15%% drop", first, last)
	}
	if cLast < 0.9*cFirst {
		t.Errorf("control: cycle loss went from %.3f to %.3f without learning; the data alone moves it", cFirst, cLast)
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func TestResumedRunEqualsUninterruptedRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"plain", nil},
		{"with the generators' average", []string{"-ema", "0.9"}}, // its shadows and counter resume too
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tinyData(t)
			whole, parts := t.TempDir(), t.TempDir()
			args := func(out string, extra ...string) []string {
				return tinyArgs(data, out, append(append([]string(nil), tc.flags...), extra...)...)
			}
			mustTrain(t, args(whole, "-max-steps", "30")...)
			// Stop mid-epoch (24 steps per epoch), then resume to the same end.
			mustTrain(t, args(parts, "-max-steps", "14")...)
			log := mustTrain(t, args(parts, "-max-steps", "30", "-resume")...)
			if !strings.Contains(log, "restored") {
				t.Fatalf("resume did not restore:\n%s", log)
			}
			a, b := latestCheckpoint(t, whole), latestCheckpoint(t, parts)
			if filepath.Base(a) != filepath.Base(b) {
				t.Fatalf("latest checkpoints %s and %s differ", a, b)
			}
			for _, f := range []string{"variables.data-00000-of-00001", "variables.index", fileState, filePoolWoman, filePoolMan} {
				if !bytes.Equal(fileBytes(t, filepath.Join(a, f)), fileBytes(t, filepath.Join(b, f))) {
					t.Errorf("%s differs between the uninterrupted and the resumed run", f)
				}
			}
			for _, f := range []string{"variables/variables.data-00000-of-00001"} {
				if !bytes.Equal(fileBytes(t, filepath.Join(whole, dirExport, f)), fileBytes(t, filepath.Join(parts, dirExport, f))) {
					t.Errorf("export %s differs between the uninterrupted and the resumed run", f)
				}
			}
		})
	}
}

func TestResumeWithoutCheckpointStartsFromScratchAndSaysSo(t *testing.T) {
	log := mustTrain(t, tinyArgs(tinyData(t), t.TempDir(), "-max-steps", "2", "-resume")...)
	if !strings.Contains(log, "starting from scratch") {
		t.Fatalf("log does not say it starts from scratch:\n%s", log)
	}
}

func TestStartingOverAnExistingRunIsRefused(t *testing.T) {
	data, out := tinyData(t), t.TempDir()
	mustTrain(t, tinyArgs(data, out, "-max-steps", "2")...)
	before := fileBytes(t, filepath.Join(latestCheckpoint(t, out), "variables.data-00000-of-00001"))
	code, log := runTraining(t, tinyArgs(data, out, "-max-steps", "4")...)
	if code == 0 || !strings.Contains(log, "-resume") {
		t.Fatalf("second run over %s: exit %d, log:\n%s", out, code, log)
	}
	if !bytes.Equal(before, fileBytes(t, filepath.Join(latestCheckpoint(t, out), "variables.data-00000-of-00001"))) {
		t.Fatal("the refused run changed the checkpoint")
	}
}

func TestSIGINTWritesResumableCheckpointAndExitsZero(t *testing.T) {
	data, out := tinyData(t), t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=train",
		"TRAINING_ARGS="+strings.Join(tinyArgs(data, out, "-log-every", "1", "-epochs", "50"), "\n"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stderr.String(), "step=3\n") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no third step within 2 minutes:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "resume with") {
		t.Errorf("log does not say how to resume:\n%s", stderr.String())
	}
	var st state
	if err := json.Unmarshal(fileBytes(t, filepath.Join(latestCheckpoint(t, out), fileState)), &st); err != nil {
		t.Fatal(err)
	}
	if st.Step < 3 {
		t.Fatalf("checkpoint after SIGINT is at step %d, want at least 3", st.Step)
	}
	log := mustTrain(t, tinyArgs(data, out, "-resume", "-max-steps", itoa(st.Step+2))...)
	if !strings.Contains(log, "restored") {
		t.Fatalf("resume after SIGINT did not restore:\n%s", log)
	}
}

func TestNaNLossStopsRunNamingStepAndLossAndKeepsLastGoodCheckpoint(t *testing.T) {
	data, out := tinyData(t), t.TempDir()
	// A learning rate this large blows the weights up within a few steps.
	code, log := runTraining(t, tinyArgs(data, out, "-lr", "1e30", "-checkpoint-every", "1")...)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, log)
	}
	i := strings.Index(log, "step ")
	if i < 0 || !(strings.Contains(log, "is NaN") || strings.Contains(log, "Inf")) || !strings.Contains(log, "last good checkpoint") {
		t.Fatalf("error does not name the step and the loss:\n%s", log)
	}
	var failed int64
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "level=error") {
			j := strings.Index(line, "step ")
			failed = leadingInt(line[j+5:])
		}
	}
	var st state
	if err := json.Unmarshal(fileBytes(t, filepath.Join(latestCheckpoint(t, out), fileState)), &st); err != nil {
		t.Fatal(err)
	}
	if failed == 0 || st.Step != failed-1 {
		t.Fatalf("failed at step %d, latest checkpoint at step %d; want the step before", failed, st.Step)
	}
}

func TestMissingOrEmptyDomainFolderStopsBeforeTheGraphIsBuilt(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "woman"), 0o755)
	src := filepath.Join(tinyData(t), "woman")
	entries, _ := os.ReadDir(src)
	for _, e := range entries[:3] {
		os.WriteFile(filepath.Join(root, "woman", e.Name()), fileBytes(t, filepath.Join(src, e.Name())), 0o644)
	}
	for _, tc := range []struct{ name, prepare string }{{"missing man/", ""}, {"empty man/", "man"}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != "" {
				os.MkdirAll(filepath.Join(root, tc.prepare), 0o755)
			}
			out := filepath.Join(t.TempDir(), "run")
			code, log := runTraining(t, tinyArgs(root, out)...)
			if code == 0 || !strings.Contains(log, filepath.Join(root, "man")) {
				t.Fatalf("exit %d; want an error naming %s:\n%s", code, filepath.Join(root, "man"), log)
			}
			if strings.Contains(log, "msg=model") {
				t.Errorf("the graph was built before the data was checked:\n%s", log)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("run directory %s was created", out)
			}
		})
	}
}

func TestFlagDefaultsAreTheReferenceImplementations(t *testing.T) {
	opt, over, err := parseOptions([]string{"-data", "x"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(over) != 0 {
		t.Errorf("with -data nothing is overridden, got %v", over)
	}
	ref := cyclegan.DefaultConfig()
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"load-size", float64(opt.LoadSize), 286}, {"size", float64(opt.Size), 256}, {"batch", float64(opt.Batch), 1},
		{"lr", opt.Model.LR, 2e-4}, {"beta1", opt.Model.Beta1, 0.5}, {"lambda", opt.Model.Lambda, 10},
		{"identity", opt.Model.Identity, 0.5}, {"pool", float64(opt.PoolSize), 50}, {"ema (off)", opt.Model.EMA, 0},
		{"change (off)", opt.Model.Change, 0}, {"gate-area (off)", opt.Model.GateArea, 0},
		{"epochs", float64(opt.Epochs), 100}, {"decay-epochs", float64(opt.DecayEpochs), 100},
		{"ngf", float64(opt.Model.NGF), float64(ref.NGF)}, {"blocks", float64(opt.Model.Blocks), 9},
		{"unet-downs", float64(opt.Model.UNetDowns), 8},
		// One process on one device unless asked: no towers, no cluster.
		{"devices (towers)", float64(len(opt.Model.Towers)), 0}, {"task", float64(opt.Task), 0},
	} {
		if c.got != c.want {
			t.Errorf("-%s defaults to %g, want %g", c.name, c.got, c.want)
		}
	}
	if opt.Model.Generator != cyclegan.GeneratorResNet || opt.Model.Upsample != "transpose" || opt.Model.Residual || opt.Model.Gate || opt.Model.UNetHead {
		t.Errorf("-generator %s -upsample %s -residual %v -gate %v -unet-head %v, want the paper's resnet, transpose, no residual, no gate and no head",
			opt.Model.Generator, opt.Model.Upsample, opt.Model.Residual, opt.Model.Gate, opt.Model.UNetHead)
	}
	if opt.Cluster != "" || opt.ServeTask || opt.Job != "worker" {
		t.Errorf("-cluster %q -serve-task %v -job %q: want no cluster, job worker", opt.Cluster, opt.ServeTask, opt.Job)
	}
	if opt.Precision != "auto" || opt.IntraOp != 0 || opt.InterOp != 0 || opt.Timings != "" {
		t.Errorf("-precision %q, -intra-op-threads %d, -inter-op-threads %d, -timings %q: want auto, 0, 0 (TensorFlow picks from the cores) and none",
			opt.Precision, opt.IntraOp, opt.InterOp, opt.Timings)
	}
	// The built-in run changes only what the user did not set, and says so.
	opt, over, err = parseOptions([]string{"-ngf", "40"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if opt.Model.NGF != 40 || opt.Size != 64 {
		t.Errorf("default run: ngf %d size %d, want 40 (given) and 64 (its own)", opt.Model.NGF, opt.Size)
	}
	if !opt.Model.Gate || opt.Model.GateArea != 1 || opt.Model.Change != 0 || opt.Model.Residual || opt.Model.EMA != 0.999 {
		t.Errorf("default run: gate %v gate-area %g change %g residual %v ema %g, want its measured recipe: true, 1, 0, false, 0.999",
			opt.Model.Gate, opt.Model.GateArea, opt.Model.Change, opt.Model.Residual, opt.Model.EMA)
	}
	if opt.Batch != 2 || opt.Epochs != 3 || opt.DecayEpochs != 2 {
		t.Errorf("default run: batch %d, %d + %d epochs; want its measured 2, 3 + 2 (2500 steps)", opt.Batch, opt.Epochs, opt.DecayEpochs)
	}
	if opt.Precision != precision.FP32 {
		t.Errorf("default run: -precision %q, want its measured fp32", opt.Precision)
	}
	if opt, _, err := parseOptions([]string{"-batch", "1"}, &bytes.Buffer{}); err != nil || opt.Batch != 1 {
		t.Errorf("default run with -batch 1: batch %d (err %v), want the 1 given", opt.Batch, err)
	}
	if opt, _, err := parseOptions([]string{"-precision", "auto"}, &bytes.Buffer{}); err != nil || opt.Precision != precision.Auto {
		t.Errorf("default run with -precision auto: %q (err %v), want the auto given", opt.Precision, err)
	}
	for _, f := range over {
		if f == "ngf" {
			t.Error("default run reports overriding a flag the user gave")
		}
	}
	// -h documents every flag.
	var help bytes.Buffer
	parseOptions([]string{"-h"}, &help)
	for _, f := range []string{"-data", "-out", "-load-size", "-size", "-batch", "-lr", "-beta1", "-lambda", "-identity", "-change",
		"-pool", "-epochs", "-decay-epochs", "-generator", "-unet-downs", "-unet-head", "-ngf", "-ndf", "-blocks", "-upsample", "-residual", "-gate", "-gate-area", "-gan-loss", "-device", "-seed",
		"-checkpoint-every", "-sample-every", "-synthetic", "-synthetic-size", "-max-steps", "-resume", "-export-only", "-precision",
		"-intra-op-threads", "-inter-op-threads", "-timings",
		"-devices", "-cluster", "-job", "-task", "-serve-task"} {
		if !strings.Contains(help.String(), "  "+f+" ") && !strings.Contains(help.String(), "  "+f+"\n") {
			t.Errorf("-h does not document %s", f)
		}
	}
}

func TestDefaultRunRendersFacesAt70AndTrainsOnThemWholeAt64(t *testing.T) {
	for _, c := range []struct {
		name                 string
		args                 []string
		rendered, load, size int
		wantErr              string
	}{
		{"the default run", nil, 70, 64, 64, ""},
		// Another -load-size does not re-render the cached faces.
		{"default run, -load-size 70 (random 64x64 crops)", []string{"-load-size", "70"}, 70, 70, 64, ""},
		{"default run, -synthetic-size 0: rendered at -load-size", []string{"-synthetic-size", "0", "-load-size", "48", "-size", "48"}, 48, 48, 48, ""},
		{"-data: no synthetic faces", []string{"-data", "x"}, 286, 286, 256, ""},
		{"-data with -synthetic-size", []string{"-data", "x", "-synthetic-size", "70"}, 0, 0, 0, "-synthetic-size 70: the synthetic faces are rendered only without -data"},
		{"too small", []string{"-synthetic-size", "8"}, 0, 0, 0, "-synthetic-size 8: want 0 or 16 to 1024"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt, _, err := parseOptions(c.args, io.Discard)
			if !checkError(t, err, c.wantErr) {
				return
			}
			if opt.syntheticSize() != c.rendered || opt.LoadSize != c.load || opt.Size != c.size {
				t.Errorf("rendered at %d, loaded at %d, trained at %d; want %d, %d, %d",
					opt.syntheticSize(), opt.LoadSize, opt.Size, c.rendered, c.load, c.size)
			}
		})
	}
}

func TestSyntheticRunRendersAtSyntheticSizeAndTrainsAtLoadSize(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	log := mustTrain(t, "-synthetic", dir, "-out", out, "-synthetic-size", "40", "-load-size", "32", "-size", "32",
		"-unet-downs", "3", "-ngf", "8", "-ndf", "8", "-max-steps", "2", "-workers", "2", "-sample-every", "0")
	if !strings.Contains(log, `msg="dataset loader started"`) || !strings.Contains(log, " load_size=32 ") {
		t.Errorf("the loader did not log load_size=32 (-load-size):\n%s", log)
	}
	m, err := faces.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Options.Size != 40 {
		t.Errorf("synthetic faces rendered at %d, want 40 (-synthetic-size)", m.Options.Size)
	}
}

func TestLearningRateIsConstantThenDecaysLinearly(t *testing.T) {
	o := Options{Epochs: 100, DecayEpochs: 100}
	o.Model.LR = 2e-4
	for _, c := range []struct {
		epoch int
		want  float64
	}{{0, 2e-4}, {99, 2e-4}, {100, 2e-4 * (1 - 1.0/101)}, {149, 2e-4 * (1 - 50.0/101)}, {199, 2e-4 * (1 - 100.0/101)}} {
		if got := o.learningRate(c.epoch); abs(got-c.want) > 1e-12 {
			t.Errorf("epoch %d: lr %g, want %g", c.epoch, got, c.want)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// leadingInt parses the decimal number at the start of s.
func leadingInt(s string) int64 {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.ParseInt(s[:end], 10, 64)
	return n
}

func TestBF16PrecisionRunsOnlyOnCPUsWithBF16AndIsRefusedClearlyElsewhere(t *testing.T) {
	flags, err := precision.CPUFlags()
	if err != nil {
		t.Fatal(err)
	}
	data, out := tinyData(t), t.TempDir()
	code, log := runTraining(t, tinyArgs(data, out, "-precision", "bf16", "-max-steps", "1")...)
	if precision.HasBF16(flags) {
		if code != 0 || !strings.Contains(log, "precision=bf16") {
			t.Fatalf("bf16 on a CPU with %v: exit %d:\n%s", precision.BF16Flags, code, log)
		}
		return
	}
	if code != 1 || !strings.Contains(log, "avx512_bf16") || !strings.Contains(log, "amx_bf16") {
		t.Fatalf("bf16 on a CPU without bf16: exit %d, want 1 and a message naming the missing CPU flags:\n%s", code, log)
	}
	if _, err := os.Stat(filepath.Join(out, dirCheckpoints)); err == nil {
		t.Error("a refused bf16 run still wrote checkpoints")
	}
}

func TestClusterTrainsInFP32AndRefusesAnExplicitBF16(t *testing.T) {
	for _, tc := range []struct {
		name, asked, resolved string
		remote                bool
		want, wantErr         string
	}{
		{"local bf16 stays", precision.BF16, precision.BF16, false, precision.BF16, ""},
		{"local auto on a bf16 CPU stays bf16", precision.Auto, precision.BF16, false, precision.BF16, ""},
		{"cluster auto on a bf16 CPU falls back", precision.Auto, precision.BF16, true, precision.FP32, ""},
		{"cluster fp32 stays", precision.FP32, precision.FP32, true, precision.FP32, ""},
		{"cluster auto without bf16 stays", precision.Auto, precision.FP32, true, precision.FP32, ""},
		{"cluster bf16 is refused", precision.BF16, precision.BF16, true, "", "does not run on a -cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := clusterPrecision(tc.asked, tc.resolved, tc.remote)
			if !checkError(t, err, tc.wantErr) {
				return
			}
			if got != tc.want {
				t.Fatalf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// checkError fails the test unless err is nil (want "") or contains want,
// and reports whether the case expected success, so its caller goes on to
// check the results.
func checkError(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return true
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
	return false
}
