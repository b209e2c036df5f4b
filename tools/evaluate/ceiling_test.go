package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cyclegan/tools/faces"
)

func TestMedianImageOnKnownValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		vals []uint8 // one value per image, in every channel
		want uint8
	}{
		{"one image", []uint8{7}, 7},
		{"odd count", []uint8{9, 1, 5}, 5},
		{"even count takes the lower middle", []uint8{10, 0, 30, 20}, 10},
		{"ties", []uint8{4, 4, 200, 4, 0}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imgs := make([]*image.NRGBA, len(tc.vals))
			for i, v := range tc.vals {
				imgs[i] = solid(3, 2, v, v, v)
			}
			got := medianImage(imgs)
			if want := solid(3, 2, tc.want, tc.want, tc.want); !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("median of %v = %v, want %d in every channel", tc.vals, got.Pix[:4], tc.want)
			}
		})
	}
	// Channels and pixels are taken apart: the median of (0,9,3) and
	// (6,1,3) and (2,2,2) per channel is (2,2,3).
	a, b, c := solid(1, 1, 0, 9, 3), solid(1, 1, 6, 1, 3), solid(1, 1, 2, 2, 2)
	if got := medianImage([]*image.NRGBA{a, b, c}).Pix; !bytes.Equal(got, []uint8{2, 2, 3, 255}) {
		t.Errorf("per-channel median = %v, want [2 2 3 255]", got)
	}
}

func TestCeilingOfTheTinyTestSplitLiesBetweenTheBaselineAndPerfection(t *testing.T) {
	root := tinyData(t)
	report, err := ceiling(root, 16)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := loadPairs(root)
	if err != nil {
		t.Fatal(err)
	}
	baseline, err := meanAbsError(pairs.women, pairs.men)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ceiling(root, 16)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range directionOrder {
		b, ok := report[d]
		if !ok {
			t.Fatalf("no %s in %v", d, report)
		}
		t.Logf("%s: %+v", d, b)
		if b.N != len(pairs.women) {
			t.Errorf("%s: n = %d, want %d", d, b.N, len(pairs.women))
		}
		// The baseline is the one evaluate reports for a model.
		if b.MAEBaseline != baseline {
			t.Errorf("%s: mae_baseline %v, want evaluate's %v", d, b.MAEBaseline, baseline)
		}
		// Hairstyles and beards cannot be read from the other gender, so the
		// best guess has an error; but every other feature can, so it closes
		// most of the gap.
		if !(b.MAEToTruth > 0 && b.GapClosed > 0.5 && b.GapClosed < 1) {
			t.Errorf("%s: mae_to_truth %.3f, gap_closed %.3f; want an error above 0 and a gap closed by more than half", d, b.MAEToTruth, b.GapClosed)
		}
		if again[d] != b {
			t.Errorf("%s: a second run gave %+v, the first %+v", d, again[d], b)
		}
	}
}

func TestCeilingRefusesDataItCannotVouchFor(t *testing.T) {
	write := func(t *testing.T) string {
		root := filepath.Join(t.TempDir(), "data")
		if err := faces.WriteDataset(root, faces.Options{Size: 16, TrainPerDomain: 1, TestPairs: 2, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		return root
	}
	for _, tc := range []struct {
		name    string
		samples int
		edit    func(t *testing.T, root string)
		want    string
	}{
		{"no samples", 0, func(*testing.T, string) {}, "0 samples"},
		{"no manifest", 4, func(t *testing.T, root string) {
			if err := os.Remove(filepath.Join(root, faces.ManifestFile)); err != nil {
				t.Fatal(err)
			}
		}, "manifest"},
		{"another renderer version", 4, func(t *testing.T, root string) {
			m, err := faces.ReadManifest(root)
			if err != nil {
				t.Fatal(err)
			}
			m.Version++
			b, _ := json.Marshal(m)
			if err := os.WriteFile(filepath.Join(root, faces.ManifestFile), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "renderer version"},
		{"an edited test face", 4, func(t *testing.T, root string) {
			path := filepath.Join(root, faces.TestDir, "man", faces.FileName(faces.TestPairs, faces.Man, 1))
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := png.Encode(f, solid(16, 16, 1, 2, 3)); err != nil {
				t.Fatal(err)
			}
		}, filepath.Join("man", "id00001.png") + " is not the renderer's image of test identity 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := write(t)
			tc.edit(t, root)
			_, err := ceiling(root, tc.samples)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ceiling: %v; want an error naming %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

func TestCeilingFlagPrintsJSONWithoutAModel(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-ceiling", "-ceiling-samples", "4", "-json", "-data", tinyData(t), "-model", filepath.Join(t.TempDir(), "none")}, &out, testLog(t)); err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]float64
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	for _, d := range directionOrder {
		for _, k := range []string{"n", "mae_to_truth", "mae_baseline", "gap_closed"} {
			if _, ok := got[d][k]; !ok {
				t.Errorf("%s has no %q: %s", d, k, out.String())
			}
		}
		if len(got[d]) != 4 {
			t.Errorf("%s has keys %v, want n, mae_to_truth, mae_baseline and gap_closed", d, got[d])
		}
	}
}
