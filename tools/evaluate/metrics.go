package main

import (
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Metrics are one translation direction's figures on the test split.
type Metrics struct {
	// MAEToTruth is the mean absolute error, on the 0-255 scale, between
	// each translation and the same identity rendered in the target domain.
	MAEToTruth float64 `json:"mae_to_truth"`
	// MAEBaseline is the same error for the untranslated input: what doing
	// nothing scores.
	MAEBaseline float64 `json:"mae_baseline"`
	// GapClosed is 1 - MAEToTruth/MAEBaseline: 1 for a perfect translation,
	// 0 for one no better than the input, negative for a worse one.
	GapClosed float64 `json:"gap_closed"`
	// CycleMAE is the error between each input and its round trip through
	// the other direction.
	CycleMAE float64 `json:"cycle_mae"`
	// IdentityMAE is the error between a face already in the target domain
	// and its translation.
	IdentityMAE float64 `json:"identity_mae"`
	// DomainAccuracy is the share of translations the domain classifier
	// assigns to the target domain.
	DomainAccuracy float64 `json:"domain_accuracy"`
	// N is the number of test pairs.
	N int `json:"n"`
}

// meanAbsError is the mean absolute difference of the RGB channels of two
// equally long lists of same-sized images, on the 0-255 scale (alpha is
// ignored).
func meanAbsError(a, b []*image.NRGBA) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("mae: %d images against %d", len(a), len(b))
	}
	if len(a) == 0 {
		return 0, fmt.Errorf("mae: no images")
	}
	var sum float64
	var n int64
	for i := range a {
		s, c, err := absErrorSum(a[i], b[i])
		if err != nil {
			return 0, fmt.Errorf("mae: image %d: %w", i, err)
		}
		sum += s
		n += c
	}
	return sum / float64(n), nil
}

// absErrorSum returns the sum of absolute RGB differences of two images of
// the same size, and the number of values summed.
func absErrorSum(a, b *image.NRGBA) (float64, int64, error) {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	if b.Rect.Dx() != w || b.Rect.Dy() != h {
		return 0, 0, fmt.Errorf("sizes differ: %dx%d and %dx%d", w, h, b.Rect.Dx(), b.Rect.Dy())
	}
	if w == 0 || h == 0 {
		return 0, 0, fmt.Errorf("empty image")
	}
	var sum int64
	for y := 0; y < h; y++ {
		pa := a.Pix[y*a.Stride : y*a.Stride+4*w]
		pb := b.Pix[y*b.Stride : y*b.Stride+4*w]
		for x := 0; x < 4*w; x += 4 {
			for c := 0; c < 3; c++ {
				d := int64(pa[x+c]) - int64(pb[x+c])
				if d < 0 {
					d = -d
				}
				sum += d
			}
		}
	}
	return float64(sum), int64(3 * w * h), nil
}

// gapClosed is 1 - mae/baseline. A zero baseline (inputs already equal to
// the truth) leaves no gap to close: then it is 1 when mae is 0 too, and 0
// otherwise, so that the figure stays finite.
func gapClosed(mae, baseline float64) float64 {
	if baseline == 0 {
		if mae == 0 {
			return 1
		}
		return 0
	}
	return 1 - mae/baseline
}

// directionOrder is the order directions are printed in.
var directionOrder = []string{dirWoman2Man, dirMan2Woman}

// writeJSON writes the report as one JSON object keyed by direction.
func writeJSON(w io.Writer, report map[string]Metrics) error {
	for d, m := range report {
		for name, v := range map[string]float64{"mae_to_truth": m.MAEToTruth, "mae_baseline": m.MAEBaseline,
			"gap_closed": m.GapClosed, "cycle_mae": m.CycleMAE, "identity_mae": m.IdentityMAE, "domain_accuracy": m.DomainAccuracy} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s %s is %v, which JSON cannot hold", d, name, v)
			}
		}
	}
	return encodeJSON(w, report)
}

// encodeJSON writes v as indented JSON.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// writeTable writes the report as a table: one row per direction, one
// column per metric.
func writeTable(w io.Writer, report map[string]Metrics) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	cols := []string{"direction", "n", "mae_to_truth", "mae_baseline", "gap_closed", "cycle_mae", "identity_mae", "domain_accuracy"}
	fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	for _, d := range directionOrder {
		m, ok := report[d]
		if !ok {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.3f\t%.2f\t%.2f\t%.1f%%\t\n", d, m.N, m.MAEToTruth, m.MAEBaseline,
			m.GapClosed, m.CycleMAE, m.IdentityMAE, 100*m.DomainAccuracy)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
