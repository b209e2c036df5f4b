package main

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"cyclegan/internal/imageio"
)

// Input layout of a CelebA download.
const (
	imagesDir     = "img_align_celeba"
	attrFile      = "list_attr_celeba.txt"
	partitionFile = "list_eval_partition.txt"
)

// jpegQuality is the quality of the JPEG outputs.
const jpegQuality = 95

// Face crop. The aligned CelebA images are 178x218 with the face centred
// horizontally (x ≈ 89) and, per list_landmarks_align_celeba.txt, the eyes at
// y ≈ 111 and the mouth corners at y ≈ 153. The crop is the largest square
// (178x178) with its top cropTopNum/cropTopDen of the vertical slack below
// the image top: (218-178)*3/4 = 30 px, so it spans rows 30..207. In the crop
// the eyes are at ≈ 45% of the height, the mouth at ≈ 69% and their midpoint
// at ≈ 57%: as close to the centre as a 178 px square allows without cutting
// much more of the hair (a top of 20, the common "centre crop", puts the
// eyes–mouth midpoint at 63% and keeps 10 px of background above the hair
// that carries no gender cue; a top of 40 reaches the image bottom and
// crops the top of the hair, which does).
//
// Images of other shapes get the same rule: the largest square, centred
// horizontally, 3/4 of the way down the vertical slack (a square image is
// used whole).
const (
	cropTopNum = 3
	cropTopDen = 4
)

// faceRect returns the crop of a w x h image (see cropTopNum).
func faceRect(w, h int) image.Rectangle {
	side := min(w, h)
	x0 := (w - side) / 2
	y0 := ((h-side)*cropTopNum + cropTopDen/2) / cropTopDen
	return image.Rect(x0, y0, x0+side, y0+side)
}

// cropFace returns the face crop of img resized to size x size with the
// Catmull-Rom kernel.
func cropFace(img *image.NRGBA, size int) *image.NRGBA {
	r := faceRect(img.Rect.Dx(), img.Rect.Dy()).Add(img.Rect.Min)
	return imageio.Resize(img.SubImage(r).(*image.NRGBA), size, size)
}

// config is the parsed command line.
type config struct {
	Src     string // CelebA root (holds img_align_celeba/ and the lists)
	Out     string // output root
	Size    int    // output side in pixels
	Split   bool   // trainA/trainB/testA/testB instead of woman/man
	Workers int    // parallel conversions
	Format  string // "jpg" or "png"
}

// stats counts what a run did with each listed image.
type stats struct {
	Written int // converted and written
	Skipped int // output already present at the right size
	Missing int // listed in the attribute file but not on disk
	Failed  int // could not be decoded or written
}

// ok reports whether every listed image has its output.
func (s stats) ok() bool { return s.Missing == 0 && s.Failed == 0 }

// job is one image to convert.
type job struct {
	name string // base name in the attribute file, e.g. 000001.jpg
	src  string // input path
	dst  string // output path
}

// outcome of one job.
type outcome int

const (
	written outcome = iota
	skipped
	missing
	failed
)

type result struct {
	job job
	out outcome
	err error
}

// domainDir returns the output folder of an image: woman/man, or with split
// trainA/trainB/testA/testB (A = woman, B = man). Validation images
// (partition 1) go to train: CycleGAN training has no use for a held-out
// validation set, and it adds about 10% more training faces.
func domainDir(male, split bool, part int) string {
	if !split {
		if male {
			return "man"
		}
		return "woman"
	}
	dir := "train"
	if part == partTest {
		dir = "test"
	}
	if male {
		return dir + "B"
	}
	return dir + "A"
}

// plan reads the CelebA lists under cfg.Src and returns one job per listed
// image. Errors (a missing folder or list, a malformed list, -split without
// a partition file or with images it does not cover) stop the run.
func plan(cfg config) ([]job, error) {
	imgDir := filepath.Join(cfg.Src, imagesDir)
	if st, err := os.Stat(imgDir); err != nil {
		return nil, fmt.Errorf("CelebA images folder: %w (expected -src to hold the unzipped %s/)", err, imagesDir)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("CelebA images folder %s is not a directory", imgDir)
	}

	attrPath := filepath.Join(cfg.Src, attrFile)
	f, err := os.Open(attrPath)
	if err != nil {
		return nil, fmt.Errorf("CelebA attribute file: %w", err)
	}
	male, order, err := parseAttributes(f, attrPath)
	f.Close()
	if err != nil {
		return nil, err
	}

	var part map[string]int
	if cfg.Split {
		pPath := filepath.Join(cfg.Src, partitionFile)
		pf, err := os.Open(pPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("-split needs the partition file %s, which does not exist (run without -split for woman/ and man/)", pPath)
		}
		if err != nil {
			return nil, fmt.Errorf("CelebA partition file: %w", err)
		}
		part, err = parsePartition(pf, pPath)
		pf.Close()
		if err != nil {
			return nil, err
		}
		uncovered := 0
		first := ""
		for _, n := range order {
			if _, ok := part[n]; !ok {
				if uncovered == 0 {
					first = n
				}
				uncovered++
			}
		}
		if uncovered > 0 {
			return nil, fmt.Errorf("%s has no partition for %d of the %d images in %s (first: %s)", pPath, uncovered, len(order), attrPath, first)
		}
	}

	jobs := make([]job, 0, len(order))
	for _, n := range order {
		stem := strings.TrimSuffix(n, filepath.Ext(n))
		dir := domainDir(male[n], cfg.Split, part[n])
		jobs = append(jobs, job{
			name: n,
			src:  filepath.Join(imgDir, n),
			dst:  filepath.Join(cfg.Out, dir, stem+"."+cfg.Format),
		})
	}
	return jobs, nil
}

// staleTempAge is how old a temporary file left by imageio.WriteFile must be
// before a new run removes it (younger ones may belong to a run in progress).
const staleTempAge = 10 * time.Minute

// removeStaleTemps deletes the temporary files an interrupted run left in
// dir (imageio.WriteFile names them ".NAME.tmpXXXX").
func removeStaleTemps(dir string, log *logrus.Logger) {
	matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) > staleTempAge {
			if err := os.Remove(m); err == nil {
				log.WithField("file", m).Debug("removed temporary file of an interrupted run")
			}
		}
	}
}

// done reports whether dst already holds a size x size image. Outputs are
// written atomically, so an existing file is complete; its size is checked
// so that a re-run with another -size rewrites it instead of keeping it.
func done(dst string, size int) bool {
	f, err := os.Open(dst)
	if err != nil {
		return false
	}
	defer f.Close()
	c, _, err := image.DecodeConfig(f)
	return err == nil && c.Width == size && c.Height == size
}

// convert does one job.
func convert(j job, size int) result {
	if done(j.dst, size) {
		return result{job: j, out: skipped}
	}
	img, err := imageio.DecodeFile(j.src, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return result{job: j, out: missing, err: err}
		}
		return result{job: j, out: failed, err: err}
	}
	if err := imageio.WriteFile(j.dst, cropFace(img, size), jpegQuality); err != nil {
		return result{job: j, out: failed, err: err}
	}
	return result{job: j, out: written}
}

// progressEvery is how often a long run logs its progress.
const progressEvery = 15 * time.Second

// run converts the CelebA download described by cfg. It returns an error
// only for problems that stop the whole run; images that are missing or
// cannot be converted are logged one by one and counted in the stats, and
// the others are still converted.
func run(cfg config, log *logrus.Logger) (stats, error) {
	var st stats
	start := time.Now()
	jobs, err := plan(cfg)
	if err != nil {
		return st, err
	}
	dirs := map[string]bool{}
	for _, j := range jobs {
		dirs[filepath.Dir(j.dst)] = true
	}
	for d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return st, fmt.Errorf("create output folder: %w", err)
		}
		removeStaleTemps(d, log)
	}
	log.WithFields(logrus.Fields{
		"src": cfg.Src, "out": cfg.Out, "images": len(jobs), "size": cfg.Size,
		"split": cfg.Split, "workers": cfg.Workers, "format": cfg.Format,
	}).Info("converting CelebA")

	workers := max(1, cfg.Workers)
	in := make(chan job)
	out := make(chan result, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range in {
				out <- convert(j, cfg.Size)
			}
		})
	}
	go func() {
		for _, j := range jobs {
			in <- j
		}
		close(in)
		wg.Wait()
		close(out)
	}()

	last := time.Now()
	n := 0
	for r := range out {
		n++
		switch r.out {
		case written:
			st.Written++
		case skipped:
			st.Skipped++
		case missing:
			st.Missing++
			log.WithFields(logrus.Fields{"image": r.job.name, "path": r.job.src}).Error("image listed in " + attrFile + " is missing")
		case failed:
			st.Failed++
			log.WithFields(logrus.Fields{"image": r.job.name}).WithError(r.err).Error("image not converted")
		}
		if time.Since(last) >= progressEvery {
			last = time.Now()
			log.WithFields(logrus.Fields{"done": n, "total": len(jobs), "written": st.Written,
				"skipped_existing": st.Skipped, "missing": st.Missing, "failed": st.Failed}).Info("progress")
		}
	}
	fields := logrus.Fields{
		"written": st.Written, "skipped_existing": st.Skipped, "missing": st.Missing,
		"failed": st.Failed, "elapsed": time.Since(start).Round(time.Millisecond).String(),
	}
	if st.ok() {
		log.WithFields(fields).Info("done")
	} else {
		log.WithFields(fields).Error("done with errors; re-run after fixing them to convert only what is left")
	}
	return st, nil
}
