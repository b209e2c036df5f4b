package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"cyclegan/graph/cyclegan"
	"cyclegan/internal/serving"
	"cyclegan/tools/faces"
)

// Default paths: those of the default training run.
const (
	DefaultModel     = "runs/woman2man/export"
	DefaultSynthetic = "data/synthetic"
	DefaultResults   = "results"
)

// Options is everything the converter is configured by.
type Options struct {
	Direction string // woman2man or man2woman
	Model     string // SavedModel directory
	In, Out   string // input file or folder; output folder
	Format    string // png or jpg
	Quality   int    // JPEG quality
	Batch     int    // images per session run at most
	Workers   int    // decoding and encoding goroutines each
	Parallel  int    // session runs in flight at once
	Compare   bool   // write side-by-side sheets and index.html
	Limits    Limits
	IntraOp   int // TensorFlow intra-op threads (0: TensorFlow's choice)
	InterOp   int // TensorFlow inter-op threads (0: TensorFlow's choice)

	Serve       string        // listen address; "" converts files instead
	MaxUpload   int64         // request body bound in bytes
	Queue       int           // conversions admitted at once (running + waiting)
	Concurrency int           // conversions running at once
	Timeout     time.Duration // per request
}

// DefaultWorkers is the default number of decoding goroutines, and of
// encoding ones: half the cores, at least one. TensorFlow's own threads
// already use every core for the session runs, which take most of the time;
// more coders only compete with them. Measured on 2 cores, 64x64 images,
// batch 8: 60.5 images/s with one of each, 55.8 with two.
func DefaultWorkers() int { return max(1, runtime.NumCPU()/2) }

// DefaultParallel is the default number of session runs in flight: two
// where there are two cores or more. Two runs, each spreading its ops over
// the cores, kept them busier than one run alone: on 2 cores, 16 images of
// 256x256 converted in 11.2-12.3 s with two runs in flight against
// 12.7-13.1 s with one (three runs each, alternating).
func DefaultParallel() int { return min(2, runtime.NumCPU()) }

// parseOptions reads the command line and fills in the defaults that depend
// on -dir.
func parseOptions(args []string, stderr io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage:\n  go run ./convert -dir woman2man|man2woman [-model DIR] [-in PATH] [-out DIR] [flags]\n"+
			"  go run ./convert -serve :8080 [-model DIR] [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Direction, "dir", "", "direction: woman2man or man2woman (required, except with -serve)")
	fs.StringVar(&o.Model, "model", DefaultModel, "SavedModel `DIR` exported by training")
	fs.StringVar(&o.In, "in", "", "input image file or folder, read recursively (default: the synthetic test faces of the source domain, "+
		DefaultSynthetic+"/test/woman or .../man)")
	fs.StringVar(&o.Out, "out", "", "output `DIR`; relative paths and base names are kept (default: "+DefaultResults+"/<dir>)")
	fs.StringVar(&o.Format, "format", "png", "output format: png or jpg")
	fs.IntVar(&o.Quality, "quality", 95, "JPEG quality, 1-100, with -format jpg")
	fs.IntVar(&o.Limits.Size, "size", 0, "resize each image so that its short side is `N` pixels before conversion (0: native size)")
	fs.IntVar(&o.Batch, "batch", 8, "same-size images per TensorFlow run at most")
	fs.IntVar(&o.Workers, "workers", DefaultWorkers(), "decoding and encoding goroutines (each)")
	fs.IntVar(&o.Parallel, "parallel", DefaultParallel(), "session runs in flight at once, at most; together they hold at most N times 256x256 pixels (a larger photo runs alone)")
	fs.BoolVar(&o.Compare, "compare", false, "also write input|output sheets under <out>/"+CompareDir+"/ and a gallery <out>/"+GalleryFile)
	fs.IntVar(&o.Limits.MaxPixels, "max-pixels", DefaultMaxPixels, "refuse images whose header declares more pixels than this, before decoding them")
	fs.IntVar(&o.Limits.MaxModelPixels, "max-model-pixels", DefaultMaxModelPixels, "refuse images with more pixels than this after -size (memory for the model)")
	fs.IntVar(&o.IntraOp, "intra-op-threads", 0, "TensorFlow intra-op threads (0: one per core)")
	fs.IntVar(&o.InterOp, "inter-op-threads", 0, "TensorFlow inter-op threads (0: TensorFlow's choice)")
	fs.StringVar(&o.Serve, "serve", "", "serve the web page and the API on `ADDR` (e.g. :8080) instead of converting files")
	fs.Int64Var(&o.MaxUpload, "max-upload", 20<<20, "with -serve: largest request body in bytes (larger: 413)")
	fs.IntVar(&o.Queue, "queue", 8, "with -serve: conversions admitted at once, running or waiting (more: 503)")
	fs.IntVar(&o.Concurrency, "concurrency", 1, "with -serve: conversions running at once")
	fs.DurationVar(&o.Timeout, "timeout", 60*time.Second, "with -serve: time limit of one request")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q: give the input with -in", fs.Args())
	}
	return o, o.complete()
}

// complete checks the options and fills in the defaults that depend on
// others.
func (o *Options) complete() error {
	if o.Serve == "" || o.Direction != "" {
		if !slices.Contains(serving.Directions, o.Direction) {
			if o.Direction == "" {
				return fmt.Errorf("-dir is required: %s", strings.Join(serving.Directions, " or "))
			}
			return fmt.Errorf("-dir %q: want %s", o.Direction, strings.Join(serving.Directions, " or "))
		}
	}
	switch strings.ToLower(o.Format) {
	case "png":
		o.Format = "png"
	case "jpg", "jpeg":
		o.Format = "jpg"
	default:
		return fmt.Errorf("-format %q: want png or jpg", o.Format)
	}
	var errs []error
	check := func(bad bool, format string, a ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	check(o.Quality < 1 || o.Quality > 100, "-quality %d: want 1-100", o.Quality)
	check(o.Limits.Size != 0 && o.Limits.Size < serving.MinSide, "-size %d: want 0 (native) or at least %d", o.Limits.Size, serving.MinSide)
	check(o.Batch < 1, "-batch %d: want at least 1", o.Batch)
	check(o.Workers < 1, "-workers %d: want at least 1", o.Workers)
	check(o.Parallel < 1, "-parallel %d: want at least 1", o.Parallel)
	check(o.Limits.MaxPixels < serving.MinSide*serving.MinSide, "-max-pixels %d: want at least %d", o.Limits.MaxPixels, serving.MinSide*serving.MinSide)
	check(o.Limits.MaxModelPixels < serving.MinSide*serving.MinSide, "-max-model-pixels %d: want at least %d", o.Limits.MaxModelPixels, serving.MinSide*serving.MinSide)
	check(o.IntraOp < 0 || o.InterOp < 0, "thread counts must not be negative")
	check(o.MaxUpload < 1, "-max-upload %d: want at least 1 byte", o.MaxUpload)
	check(o.Concurrency < 1, "-concurrency %d: want at least 1", o.Concurrency)
	check(o.Queue < o.Concurrency, "-queue %d: want at least -concurrency (%d)", o.Queue, o.Concurrency)
	check(o.Timeout <= 0, "-timeout %v: want a positive duration", o.Timeout)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if o.Serve != "" {
		return nil
	}
	if o.In == "" {
		src := faces.Woman
		if o.Direction == cyclegan.SigMan2Woman {
			src = faces.Man
		}
		o.In = filepath.Join(DefaultSynthetic, faces.TestDir, src.String())
	}
	if o.Out == "" {
		o.Out = filepath.Join(DefaultResults, o.Direction)
	}
	return nil
}
