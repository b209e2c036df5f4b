// Command genfaces writes the synthetic women/men face data set used to
// train and evaluate the CycleGAN.
//
// Usage:
//
//	go run ./tools/genfaces [flags]
//
// By default it makes sure data/synthetic holds the data set with 64×64
// images, 1000 training images per domain and 100 test pairs drawn from
// seed 1. An existing data set with the same options is left untouched; one
// with other options is replaced atomically.
//
// With -preview FILE.png it instead writes a single image showing -n test
// identities, as women in the top row and as men in the bottom row.
package main

import (
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"time"

	log "github.com/sirupsen/logrus"

	"cyclegan/tools/faces"
)

func main() {
	def := faces.DefaultOptions()
	out := flag.String("out", "data/synthetic", "data set root `directory`")
	size := flag.Int("size", def.Size, fmt.Sprintf("image side in `pixels` (%d to %d)", faces.MinSize, faces.MaxSize))
	train := flag.Int("train", def.TrainPerDomain, "training images per domain (women and men are different identities)")
	test := flag.Int("test", def.TestPairs, "test identities, each written as a woman and as a man under the same file name")
	seed := flag.Int64("seed", def.Seed, "random seed; equal flags give byte-identical data sets")
	preview := flag.String("preview", "", "write a preview grid to this PNG `file` instead of the data set")
	n := flag.Int("n", 8, "number of identities in the -preview grid (1 to 64)")
	flag.Usage = func() {
		w := flag.CommandLine.Output()
		fmt.Fprintf(w, "Usage: genfaces [flags]\n\n")
		fmt.Fprintf(w, "Writes the synthetic face data set (layout: OUT/train/{woman,man}/, OUT/test/{woman,man}/,\n")
		fmt.Fprintf(w, "OUT/manifest.json). Does nothing if OUT already holds the same data set.\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments %q; see -h", flag.Args())
	}

	opt := faces.Options{Size: *size, TrainPerDomain: *train, TestPairs: *test, Seed: *seed}
	if *preview != "" {
		if err := writePreview(*preview, opt.Seed, *n, opt.Size); err != nil {
			log.WithError(err).Fatal("preview failed")
		}
		log.WithFields(log.Fields{"file": *preview, "identities": *n, "size": opt.Size, "seed": opt.Seed}).Info("preview written")
		return
	}

	fields := log.Fields{
		"root": *out, "size": opt.Size, "train_per_domain": opt.TrainPerDomain,
		"test_pairs": opt.TestPairs, "seed": opt.Seed,
	}
	start := time.Now()
	created, err := faces.EnsureDataset(*out, opt)
	if err != nil {
		log.WithFields(fields).WithError(err).Fatal("data set generation failed")
	}
	fields["elapsed"] = time.Since(start).Round(time.Microsecond).String()
	if created {
		fields["images"] = 2 * (opt.TrainPerDomain + opt.TestPairs)
		log.WithFields(fields).Info("data set written")
	} else {
		log.WithFields(fields).Info("data set already up to date")
	}
}

func writePreview(path string, seed int64, n, size int) error {
	if n < 1 || n > 64 {
		return fmt.Errorf("preview identities %d out of range [1, 64]", n)
	}
	if size < faces.MinSize || size > faces.MaxSize {
		return fmt.Errorf("image size %d out of range [%d, %d]", size, faces.MinSize, faces.MaxSize)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := png.Encode(f, faces.Preview(seed, n, size)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
