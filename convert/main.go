// Command convert turns faces into the other gender with the SavedModel that
// training exports: women into men (woman2man) or men into women
// (man2woman). It converts files, or serves a web page and an HTTP API.
//
//	go run ./convert -dir woman2man         # the synthetic test faces of the default run
//	go run ./convert -dir man2woman -model runs/celeba/export -in photos -out results/photos -compare
//	go run ./convert -serve :8080           # the web page; POST /v1/convert?dir=woman2man
//
// Inputs are one file or a folder read recursively (JPEG, PNG, GIF, BMP,
// TIFF, WebP, recognised by content; EXIF orientation honoured) and are
// converted at their native size unless -size is given. Outputs keep the
// relative paths and base names. Every input that cannot be converted is
// named with its reason, the others are converted regardless, and the exit
// status is 1 when any failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"cyclegan/graph"
	"cyclegan/internal/progress"
	"cyclegan/internal/serving"
	"cyclegan/internal/tfrt"

	"github.com/sirupsen/logrus"
)

func main() {
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	// A converter never changes its weights once loaded.
	if err := tfrt.DefaultRuntime(true, 0); err != nil {
		log.WithError(err).Warn("oneDNN stays off")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
		log.Warn("stopping: finishing what is in flight; signal again to abort")
	}()
	code := run(ctx, os.Args[1:], os.Stderr, log)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // a file failed, or the model or the input could not be used
	exitUsage  = 2 // bad flags, or an output that would touch the input
)

// run is the whole program; it returns the exit status. Cancelling ctx stops
// a conversion (what is done stays done) or shuts the server down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer, log *logrus.Logger) int {
	opt, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		log.Error(err)
		return exitUsage
	}
	log.WithFields(logrus.Fields{"tensorflow": tfrt.Version(), "onednn": tfrt.OneDNNEnabled()}).Info("runtime")
	if err := tfrt.Check(); err != nil {
		log.Error(err)
		return exitFailed
	}
	if opt.Serve != "" {
		if err := serve(ctx, opt, log); err != nil {
			log.Error(err)
			return exitFailed
		}
		return exitOK
	}
	return convertFiles(ctx, opt, stderr, log)
}

// convertFiles is the command line conversion.
func convertFiles(ctx context.Context, opt Options, stderr io.Writer, log *logrus.Logger) int {
	if _, err := os.Stat(opt.In); errors.Is(err, os.ErrNotExist) {
		log.Errorf("input %s does not exist: pass -in (a file or a folder), or run `go run ./training` first, which generates the synthetic faces under %s", opt.In, DefaultSynthetic)
		return exitFailed
	}
	jobs, err := plan(opt.In, opt.Out, opt.Format, opt.Compare)
	if err != nil {
		log.Error(err)
		if errors.Is(err, errRefused) {
			return exitUsage
		}
		return exitFailed
	}
	if len(jobs) == 0 {
		log.Errorf("no image files under %s (looked for .jpg .jpeg .png .gif .bmp .tif .tiff .webp, any case)", opt.In)
		return exitFailed
	}
	m, err := serving.LoadModel(opt.Model, []string{opt.Direction}, graph.SessionConfig{IntraOpThreads: opt.IntraOp, InterOpThreads: opt.InterOp})
	if err != nil {
		log.Error(err)
		return exitFailed
	}
	defer m.Close()
	log.WithFields(logrus.Fields{"model": opt.Model, "dir": opt.Direction, "in": opt.In, "out": opt.Out,
		"images": len(jobs), "batch": opt.Batch, "parallel": opt.Parallel, "size": sizeField(opt.Limits.Size)}).Info("converting")

	bar := progress.New(stderr, int64(len(jobs)), 0, opt.Direction, "images")
	report := func(f Failure) {
		log.WithField("file", f.Path).WithError(f.Reason).Error("not converted")
	}
	onFail := report
	if bar.Active() { // printed after the bar, which a log line would break
		onFail = nil
	}
	sum := convertAll(ctx, m, jobs, runConfig{Direction: opt.Direction, Quality: opt.Quality, Batch: opt.Batch,
		Workers: opt.Workers, Parallel: opt.Parallel, Compare: opt.Compare, Limits: opt.Limits}, bar, onFail)
	bar.Finish()
	if bar.Active() {
		for _, f := range sum.Failures {
			report(f)
		}
	}
	if opt.Compare {
		if err := writeGallery(opt.Out, opt.Direction, opt.Model, sum); err != nil {
			log.Error(err)
			sum.Failed++ // the run did not deliver what was asked
		} else {
			log.WithField("page", fmt.Sprintf("%s/%s", opt.Out, GalleryFile)).Info("gallery")
		}
	}
	fields := logrus.Fields{"converted": sum.Converted, "failed": sum.Failed, "images_per_s": fmt.Sprintf("%.1f", sum.ImagesPerSecond()),
		"elapsed": sum.Elapsed.Round(1e6).String(), "model_time": sum.ModelTime.Round(1e6).String(), "runs": sum.Runs, "out": opt.Out}
	switch {
	case sum.Interrupted:
		fields["not_done"] = sum.Total - sum.Converted - sum.Failed
		log.WithFields(fields).Warn("interrupted")
		return exitFailed
	case sum.Failed > 0:
		log.WithFields(fields).Warn("done, with failures")
		return exitFailed
	}
	log.WithFields(fields).Info("done")
	return exitOK
}

func sizeField(n int) string {
	if n == 0 {
		return "native"
	}
	return fmt.Sprintf("short side %d", n)
}
