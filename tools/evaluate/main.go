// Command evaluate measures an exported CycleGAN on the synthetic test
// split, whose women and men come in pairs: the same file name in
// test/woman and test/man is the same identity drawn as a woman and as a
// man, so each translation has a ground truth.
//
// Usage:
//
//	go run ./tools/evaluate -model runs/woman2man/export [-data data/synthetic] [-json]
//	go run ./tools/evaluate -ceiling [-data data/synthetic] [-json]
//
// For each direction (woman2man: test/woman against test/man; man2woman:
// the reverse) it reports:
//
//   - mae_to_truth: mean absolute error (0-255 scale) between the
//     translation and the ground-truth counterpart;
//   - mae_baseline: the same for the untranslated input;
//   - gap_closed: 1 - mae_to_truth/mae_baseline;
//   - cycle_mae: input against its round trip through the other direction;
//   - identity_mae: a face already in the target domain against its
//     translation (for woman2man, the test men);
//   - domain_accuracy: the share of translations a domain classifier
//     assigns to the target domain.
//
// The domain classifier is a small conv net (three stride-2 4x4
// convolutions with LeakyReLU, a 1x1 convolution to one logit map, and its
// global mean) trained with BCE and Adam on the training split (women 0,
// men 1) and its mirror images: 400 steps of 32 women and 32 men, the
// learning rate falling linearly to a tenth. It sees the images downscaled
// to -classifier-size (32, with Catmull-Rom), which keeps hair, beard and
// face shape legible and makes training take a few seconds on two cores. It must classify at least 99% of the
// real test faces correctly, or evaluate fails rather than report a verdict
// it cannot trust. A trained classifier is cached as a checkpoint under
// -classifier-dir, keyed by the data set's manifest and the classifier's
// settings, so later evaluations restore it instead of training again.
//
// With -ceiling, evaluate needs no model: it reports, for each direction,
// the mae_to_truth and gap_closed of the best guess a translator can make,
// given that its input does not show every feature of the truth (a woman's
// face does not show her beard as a man). See ceiling.
package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"cyclegan/graph"
	"cyclegan/internal/dataset"
	"cyclegan/internal/imageio"
	"cyclegan/internal/tfrt"
	"cyclegan/tools/faces"

	"github.com/sirupsen/logrus"
)

// options are the command's flags.
type options struct {
	Model         string
	Data          string
	JSON          bool
	ClassifierDir string // "" means Data/classifier
	Classifier    classifierConfig
	Threads       int
	// Ceiling asks for the test split's ceiling instead of a model's
	// figures, from CeilingSamples renderings of each target.
	Ceiling        bool
	CeilingSamples int
}

func main() {
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	if err := run(os.Args[1:], os.Stdout, log); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			log.WithError(err).Error("evaluation failed")
		}
		os.Exit(1)
	}
}

// parseFlags reads the command line.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Model, "model", "runs/woman2man/export", "exported SavedModel `directory` (signatures woman2man and man2woman)")
	fs.StringVar(&o.Data, "data", "data/synthetic", "synthetic data set `root` (train/{woman,man}, test/{woman,man} paired by file name)")
	fs.BoolVar(&o.JSON, "json", false, "print JSON instead of a table")
	fs.StringVar(&o.ClassifierDir, "classifier-dir", "", "cache `directory` of the domain classifier's checkpoints (default DATA/classifier)")
	fs.IntVar(&o.Classifier.Size, "classifier-size", 32, "side in `pixels` the domain classifier sees (images are downscaled to it)")
	fs.IntVar(&o.Classifier.Width, "classifier-width", 16, "`filters` of the domain classifier's first convolution (doubled by each of the next two)")
	fs.IntVar(&o.Classifier.Steps, "classifier-steps", 400, "training `steps` of the domain classifier")
	fs.IntVar(&o.Classifier.Batch, "classifier-batch", 32, "domain classifier batch: `images` per domain per step")
	fs.Float64Var(&o.Classifier.LR, "classifier-lr", 2e-3, "domain classifier Adam learning `rate`")
	fs.Int64Var(&o.Classifier.Seed, "classifier-seed", 1, "domain classifier initialization and sampling `seed`")
	fs.IntVar(&o.Threads, "threads", 0, "TensorFlow intra-op `threads` (0: one per core)")
	fs.BoolVar(&o.Ceiling, "ceiling", false, "instead of evaluating -model, report the best mae_to_truth and gap_closed a translator can be expected to reach on the test split: the per-pixel median of the targets its input is consistent with")
	fs.IntVar(&o.CeilingSamples, "ceiling-samples", 64, "renderings of each target whose median -ceiling takes (`n`)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q; see -h", fs.Args())
	}
	if o.ClassifierDir == "" {
		o.ClassifierDir = filepath.Join(o.Data, "classifier")
	}
	return o, nil
}

// run parses args, evaluates and prints the report to stdout.
func run(args []string, stdout io.Writer, log *logrus.Logger) error {
	o, err := parseFlags(args, log.Out)
	if err != nil {
		return err
	}
	if o.Ceiling {
		start := time.Now()
		bounds, err := ceiling(o.Data, o.CeilingSamples)
		if err != nil {
			return err
		}
		log.WithFields(logrus.Fields{"data": o.Data, "samples": o.CeilingSamples,
			"elapsed": time.Since(start).Round(time.Millisecond).String()}).Info("ceiling computed")
		return writeCeiling(stdout, bounds, o.JSON)
	}
	if err := tfrt.Check(); err != nil {
		return err
	}
	report, err := evaluate(o, log)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(stdout, report)
	}
	return writeTable(stdout, report)
}

// testPairs are the test split's faces, women[i] and men[i] being the same
// identity.
type testPairs struct {
	women, men []*image.NRGBA
}

// loadPairs decodes root/test/woman and root/test/man, matched by base name.
func loadPairs(root string) (testPairs, error) {
	var p testPairs
	wdir := filepath.Join(root, faces.TestDir, faces.Woman.String())
	mdir := filepath.Join(root, faces.TestDir, faces.Man.String())
	wpaths, err := dataset.ListImages(wdir)
	if err != nil {
		return p, fmt.Errorf("test women: %w", err)
	}
	mpaths, err := dataset.ListImages(mdir)
	if err != nil {
		return p, fmt.Errorf("test men: %w", err)
	}
	men := make(map[string]string, len(mpaths))
	for _, m := range mpaths {
		men[filepath.Base(m)] = m
	}
	var size image.Point
	for _, w := range wpaths {
		m, ok := men[filepath.Base(w)]
		if !ok {
			return p, fmt.Errorf("test woman %s has no counterpart %s", w, filepath.Join(mdir, filepath.Base(w)))
		}
		delete(men, filepath.Base(w))
		wi, err := imageio.DecodeFile(w, 0)
		if err != nil {
			return p, err
		}
		mi, err := imageio.DecodeFile(m, 0)
		if err != nil {
			return p, err
		}
		if len(p.women) == 0 {
			size = wi.Rect.Size()
		}
		if wi.Rect.Size() != size || mi.Rect.Size() != size {
			return p, fmt.Errorf("test pair %s is %v and %v, the first pair %v: all test images must have one size",
				filepath.Base(w), wi.Rect.Size(), mi.Rect.Size(), size)
		}
		p.women, p.men = append(p.women, wi), append(p.men, mi)
	}
	if len(men) > 0 {
		left := slices.Sorted(maps.Values(men))
		return p, fmt.Errorf("test man %s has no counterpart in %s (%d unpaired men)", left[0], wdir, len(left))
	}
	if len(p.women) == 0 {
		return p, fmt.Errorf("no test pairs in %s and %s (generate the data set with go run ./tools/genfaces)", wdir, mdir)
	}
	return p, nil
}

// evaluate computes the metrics of both directions.
func evaluate(o options, log *logrus.Logger) (map[string]Metrics, error) {
	start := time.Now()
	pairs, err := loadPairs(o.Data)
	if err != nil {
		return nil, err
	}
	size := pairs.women[0].Rect.Size()
	log.WithFields(logrus.Fields{"data": o.Data, "pairs": len(pairs.women), "size": size.String()}).Info("test split loaded")
	sc := graph.SessionConfig{IntraOpThreads: o.Threads}
	// The model first: a wrong -model fails before a classifier is trained.
	m, err := loadModel(o.Model, sc)
	if err != nil {
		return nil, err
	}
	defer m.close()
	log.WithField("model", o.Model).Info("model loaded")
	clf, err := trustedClassifier(o.Data, o.ClassifierDir, o.Classifier, sc, pairs.women, pairs.men, log)
	if err != nil {
		return nil, err
	}
	defer clf.close()

	report := map[string]Metrics{}
	for _, d := range []struct {
		name, back    string
		input, target []*image.NRGBA
		toMan         bool
	}{
		{dirWoman2Man, dirMan2Woman, pairs.women, pairs.men, true},
		{dirMan2Woman, dirWoman2Man, pairs.men, pairs.women, false},
	} {
		t := time.Now()
		met, err := measure(m, clf, d.name, d.back, d.input, d.target, d.toMan)
		if err != nil {
			return nil, err
		}
		report[d.name] = met
		log.WithFields(logrus.Fields{"direction": d.name, "gap_closed": met.GapClosed, "domain_accuracy": met.DomainAccuracy,
			"elapsed": time.Since(t).Round(time.Millisecond).String()}).Info("direction evaluated")
	}
	log.WithField("elapsed", time.Since(start).Round(time.Millisecond).String()).Info("evaluation done")
	return report, nil
}

// measure computes one direction's metrics: d translates input towards
// target's domain (men when toMan), back translates the other way.
func measure(m *model, clf *classifier, d, back string, input, target []*image.NRGBA, toMan bool) (Metrics, error) {
	met := Metrics{N: len(input)}
	fake, err := m.translate(d, input)
	if err != nil {
		return met, err
	}
	if met.MAEToTruth, err = meanAbsError(fake, target); err != nil {
		return met, fmt.Errorf("%s mae_to_truth: %w", d, err)
	}
	if met.MAEBaseline, err = meanAbsError(input, target); err != nil {
		return met, fmt.Errorf("%s mae_baseline: %w", d, err)
	}
	met.GapClosed = gapClosed(met.MAEToTruth, met.MAEBaseline)
	rec, err := m.translate(back, fake)
	if err != nil {
		return met, err
	}
	if met.CycleMAE, err = meanAbsError(rec, input); err != nil {
		return met, fmt.Errorf("%s cycle_mae: %w", d, err)
	}
	idt, err := m.translate(d, target)
	if err != nil {
		return met, err
	}
	if met.IdentityMAE, err = meanAbsError(idt, target); err != nil {
		return met, fmt.Errorf("%s identity_mae: %w", d, err)
	}
	share, err := clf.shareMan(fake)
	if err != nil {
		return met, fmt.Errorf("%s domain_accuracy: %w", d, err)
	}
	met.DomainAccuracy = share
	if !toMan {
		met.DomainAccuracy = 1 - share
	}
	return met, nil
}
