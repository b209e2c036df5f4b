package main

import (
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"text/tabwriter"

	"cyclegan/internal/imageio"
	"cyclegan/tools/faces"
)

// Bound is the best figure a translator can be expected to reach in one
// direction of the synthetic test split (see [ceiling]).
type Bound struct {
	// MAEToTruth is the mean absolute error, on the 0-255 scale, between
	// the best guess and the ground truth.
	MAEToTruth float64 `json:"mae_to_truth"`
	// MAEBaseline is the untranslated input's error, as in [Metrics].
	MAEBaseline float64 `json:"mae_baseline"`
	// GapClosed is 1 - MAEToTruth/MAEBaseline: the highest gap_closed a
	// translator can be expected to reach.
	GapClosed float64 `json:"gap_closed"`
	// N is the number of test pairs.
	N int `json:"n"`
}

// ceiling bounds what a translator can score on the synthetic test split
// under root. The input of a translation does not draw every feature of its
// ground truth: a woman's face does not show which beard or short hairstyle
// the same identity wears as a man, nor a man's face which long hairstyle,
// hair length and lip colour the same identity has as a woman
// ([faces.Unseen]). So for each test pair ceiling renders the target as
// samples identities that differ from the truth only in those features (the
// others drawn by [faces.NewIdentity], from a stream fixed by the pair's
// index) and takes their per-pixel median: the guess with the least expected
// absolute error, pixel by pixel, of a translator that reads every other
// feature perfectly. No translator can be expected to beat its error; a
// translator that sees less of the input, or draws less exactly, scores
// worse.
//
// ceiling reads root's manifest to find the identities, and refuses a test
// pair whose files are not what the renderer draws for them.
func ceiling(root string, samples int) (map[string]Bound, error) {
	if samples < 1 {
		return nil, fmt.Errorf("ceiling: %d samples; need at least 1", samples)
	}
	m, err := faces.ReadManifest(root)
	if err != nil {
		return nil, fmt.Errorf("ceiling needs the synthetic data set's manifest: %w", err)
	}
	if m.Version != faces.Version {
		return nil, fmt.Errorf("ceiling: %s was drawn by renderer version %d, this build's is %d (regenerate it with go run ./tools/genfaces)",
			filepath.Join(root, faces.ManifestFile), m.Version, faces.Version)
	}
	n := m.Options.TestPairs
	if n < 1 {
		return nil, fmt.Errorf("ceiling: %s lists no test pairs", filepath.Join(root, faces.ManifestFile))
	}
	women, men := make([]*image.NRGBA, n), make([]*image.NRGBA, n)
	guessMan, guessWoman := make([]*image.NRGBA, n), make([]*image.NRGBA, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range min(runtime.NumCPU(), n) {
		wg.Go(func() {
			for i := range work {
				errs[i] = boundPair(root, m.Options, i, samples, women, men, guessMan, guessWoman)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	report := map[string]Bound{}
	for _, d := range []struct {
		name                 string
		input, target, guess []*image.NRGBA
	}{
		{dirWoman2Man, women, men, guessMan},
		{dirMan2Woman, men, women, guessWoman},
	} {
		b := Bound{N: n}
		if b.MAEToTruth, err = meanAbsError(d.guess, d.target); err != nil {
			return nil, fmt.Errorf("%s ceiling: %w", d.name, err)
		}
		if b.MAEBaseline, err = meanAbsError(d.input, d.target); err != nil {
			return nil, fmt.Errorf("%s baseline: %w", d.name, err)
		}
		b.GapClosed = gapClosed(b.MAEToTruth, b.MAEBaseline)
		report[d.name] = b
	}
	return report, nil
}

// boundPair checks test pair i against the renderer and stores its images
// and the best guesses of its man and its woman at index i.
func boundPair(root string, o faces.Options, i, samples int, women, men, guessMan, guessWoman []*image.NRGBA) error {
	id := faces.SplitIdentity(o.Seed, faces.TestPairs, i)
	for _, p := range []struct {
		g   faces.Gender
		dst []*image.NRGBA
	}{{faces.Woman, women}, {faces.Man, men}} {
		path := filepath.Join(root, faces.TestDir, p.g.String(), faces.FileName(faces.TestPairs, p.g, i))
		img, err := imageio.DecodeFile(path, 0)
		if err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
		diff, _, err := absErrorSum(img, faces.Render(id, p.g, o.Size))
		if err != nil || diff != 0 {
			return fmt.Errorf("ceiling: %s is not the renderer's image of test identity %d as a %v at %dx%d (edited, or another data set?)",
				path, i, p.g, o.Size, o.Size)
		}
		p.dst[i] = img
	}
	r := rand.New(rand.NewPCG(uint64(i), 0xce11))
	asMan, asWoman := make([]*image.NRGBA, samples), make([]*image.NRGBA, samples)
	for k := range samples {
		other := faces.NewIdentity(r)
		asMan[k] = faces.Render(faces.Unseen(id, faces.Man, other), faces.Man, o.Size)
		asWoman[k] = faces.Render(faces.Unseen(id, faces.Woman, other), faces.Woman, o.Size)
	}
	guessMan[i], guessWoman[i] = medianImage(asMan), medianImage(asWoman)
	return nil
}

// medianImage returns the per-pixel, per-channel median of same-sized
// images: of an even number of values, the lower of the middle two (any
// value between them has the same least total absolute error). The result
// is opaque.
func medianImage(imgs []*image.NRGBA) *image.NRGBA {
	r := imgs[0].Rect
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	vals := make([]uint8, len(imgs))
	for y := range r.Dy() {
		for x := range r.Dx() {
			o := out.PixOffset(x, y)
			for c := range 3 {
				for k, img := range imgs {
					vals[k] = img.Pix[img.PixOffset(r.Min.X+x, r.Min.Y+y)+c]
				}
				slices.Sort(vals)
				out.Pix[o+c] = vals[(len(vals)-1)/2]
			}
			out.Pix[o+3] = 255
		}
	}
	return out
}

// writeCeiling writes the ceiling report as a table, or as JSON keyed by
// direction.
func writeCeiling(w io.Writer, report map[string]Bound, asJSON bool) error {
	if asJSON {
		return encodeJSON(w, report)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "direction\tn\tmae_to_truth\tmae_baseline\tgap_closed\t")
	for _, d := range directionOrder {
		if b, ok := report[d]; ok {
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.3f\t\n", d, b.N, b.MAEToTruth, b.MAEBaseline, b.GapClosed)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}
