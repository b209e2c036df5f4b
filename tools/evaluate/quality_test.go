package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"cyclegan/tools/faces"
)

// regressionRun is the short training run the quality regression test
// makes: the U-Net recipe of the default run, shrunk to 32x32 faces and
// two minutes on two cores.
var regressionRun = []string{
	"-load-size", "32", "-size", "32",
	"-generator", "unet", "-unet-downs", "5", "-ngf", "16", "-ndf", "16",
	"-lr", "1e-3", "-lambda", "20",
	"-epochs", "2", "-decay-epochs", "2",
	"-keep-every", "0", "-checkpoint-every", "100000", "-log-every", "200",
}

// TestShortTrainingRunBeatsTheUntranslatedInput trains the real training
// command on a small synthetic set and requires its translations, in both
// directions, to land closer to the true counterparts than the untouched
// inputs are (gap_closed above 0). A model that has learned nothing does
// not: the same check on a model trained 3 steps on noise must fail it.
func TestShortTrainingRunBeatsTheUntranslatedInput(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "data")
	if err := faces.WriteDataset(root, faces.Options{Size: 32, TrainPerDomain: 300, TestPairs: 20, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "training")
	if out, err := exec.Command("go", "build", "-o", bin, "cyclegan/training").CombinedOutput(); err != nil {
		t.Fatalf("build the training command: %v\n%s", err, out)
	}
	runDir := filepath.Join(dir, "run")
	cmd := exec.Command(bin, append([]string{"-data", filepath.Join(root, faces.TrainDir), "-out", runDir}, regressionRun...)...)
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("training: %v\n%s", err, out)
	}

	cache := filepath.Join(dir, "classifier")
	gap := func(model string) map[string]float64 {
		t.Helper()
		var out bytes.Buffer
		if err := run([]string{"-model", model, "-data", root, "-classifier-dir", cache, "-json"}, &out, testLog(t)); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", model, out.String())
		var report map[string]map[string]float64
		if err := json.Unmarshal(out.Bytes(), &report); err != nil {
			t.Fatal(err)
		}
		return map[string]float64{"woman2man": report["woman2man"]["gap_closed"], "man2woman": report["man2woman"]["gap_closed"]}
	}
	for d, g := range gap(filepath.Join(runDir, "export")) {
		if g <= 0 {
			t.Errorf("%s: gap_closed %.3f after the short run, want above 0 (closer to the truth than the input)", d, g)
		}
	}
	for d, g := range gap(exportTinyModel(t)) {
		if g > 0 {
			t.Errorf("%s: an untrained model has gap_closed %.3f: the bar would not catch a model that learned nothing", d, g)
		}
	}
}
