package main

import (
	"bytes"
	"encoding/json"
	"image"
	"math"
	"strings"
	"testing"
)

// solid is a w x h image of one opaque colour.
func solid(w, h int, r, g, b uint8) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = r, g, b, 255
	}
	return img
}

func TestMeanAbsErrorOnKnownImages(t *testing.T) {
	gradient := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for i := range gradient.Pix {
		gradient.Pix[i] = uint8(i * 8)
	}
	for _, tc := range []struct {
		name string
		a, b []*image.NRGBA
		want float64
	}{
		{"identical images", []*image.NRGBA{gradient, solid(4, 2, 7, 8, 9)}, []*image.NRGBA{gradient, solid(4, 2, 7, 8, 9)}, 0},
		{"all zeros against all 255", []*image.NRGBA{solid(5, 3, 0, 0, 0)}, []*image.NRGBA{solid(5, 3, 255, 255, 255)}, 255},
		{"one channel off by 30", []*image.NRGBA{solid(2, 2, 100, 100, 100)}, []*image.NRGBA{solid(2, 2, 130, 100, 100)}, 10},
		{"averaged over images", []*image.NRGBA{solid(2, 2, 0, 0, 0), solid(2, 2, 10, 10, 10)},
			[]*image.NRGBA{solid(2, 2, 0, 0, 0), solid(2, 2, 0, 0, 0)}, 5},
		{"alpha ignored", []*image.NRGBA{func() *image.NRGBA { i := solid(2, 2, 1, 2, 3); i.Pix[3] = 0; return i }()},
			[]*image.NRGBA{solid(2, 2, 1, 2, 3)}, 0},
		{"sub-image with a stride", []*image.NRGBA{solid(8, 8, 50, 50, 50).SubImage(image.Rect(2, 2, 4, 4)).(*image.NRGBA)},
			[]*image.NRGBA{solid(2, 2, 60, 60, 60)}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := meanAbsError(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("mae = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMeanAbsErrorRefusesMismatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []*image.NRGBA
		msg  string
	}{
		{"counts differ", []*image.NRGBA{solid(2, 2, 0, 0, 0)}, nil, "1 images against 0"},
		{"no images", nil, nil, "no images"},
		{"sizes differ", []*image.NRGBA{solid(2, 2, 0, 0, 0)}, []*image.NRGBA{solid(3, 2, 0, 0, 0)}, "sizes differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := meanAbsError(tc.a, tc.b); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

func TestGapClosed(t *testing.T) {
	for _, tc := range []struct {
		name                string
		mae, baseline, want float64
	}{
		{"translation equals truth", 0, 23, 1},
		{"no better than the input", 23, 23, 0},
		{"half the gap", 10, 20, 0.5},
		{"worse than the input", 30, 20, -0.5},
		{"input already the truth, translation too", 0, 0, 1},
		{"input already the truth, translation not", 5, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := gapClosed(tc.mae, tc.baseline); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("gapClosed(%v, %v) = %v, want %v", tc.mae, tc.baseline, got, tc.want)
			}
		})
	}
}

func TestReportOutputs(t *testing.T) {
	report := map[string]Metrics{
		dirWoman2Man: {MAEToTruth: 10, MAEBaseline: 20, GapClosed: 0.5, CycleMAE: 3, IdentityMAE: 4, DomainAccuracy: 0.97, N: 100},
		dirMan2Woman: {MAEToTruth: 12, MAEBaseline: 20, GapClosed: 0.4, CycleMAE: 5, IdentityMAE: 6, DomainAccuracy: 1, N: 100},
	}
	var js bytes.Buffer
	if err := writeJSON(&js, report); err != nil {
		t.Fatal(err)
	}
	var back map[string]map[string]float64
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back[dirWoman2Man]["gap_closed"] != 0.5 || back[dirMan2Woman]["n"] != 100 || len(back[dirWoman2Man]) != 7 {
		t.Errorf("json round trip: %v", back)
	}
	var tab bytes.Buffer
	if err := writeTable(&tab, report); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(tab.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "mae_to_truth") || !strings.Contains(lines[1], dirWoman2Man) ||
		!strings.Contains(lines[1], "97.0%") || !strings.Contains(lines[2], dirMan2Woman) {
		t.Errorf("table:\n%s", tab.String())
	}
	report[dirWoman2Man] = Metrics{GapClosed: math.Inf(-1)}
	if err := writeJSON(&js, report); err == nil {
		t.Error("writeJSON accepted an infinite figure")
	}
}
