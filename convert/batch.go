package main

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"time"

	"cyclegan/internal/imageio"
	"cyclegan/internal/progress"
	"cyclegan/internal/serving"
)

// MaxBatchPixels bounds the pixels of one session run: a batch holds at most
// -batch images and, for large images, only as many as fit in this budget
// (always at least one), so that batching never multiplies the memory a
// large photo needs. Batching pays where a run's fixed cost matters, for
// small images; at 256x256 one image per run was fastest (measured on 2
// cores with the converter's default kernels: 1.34 images/s, against
// 1.1-1.2 in batches of 2, 4 or 8), so the budget is one 256x256 image.
const MaxBatchPixels = 256 * 256

// runConfig is what a conversion run needs besides the model and the jobs.
type runConfig struct {
	Direction string
	Quality   int  // JPEG quality; 0 is imageio's default
	Batch     int  // images per session run at most
	Workers   int  // decoding and encoding goroutines each
	Parallel  int  // session runs in flight at once, at most
	Compare   bool // also write side-by-side sheets
	Limits    Limits
}

// item is one image travelling through the pipeline.
type item struct {
	job *job
	in  *image.NRGBA // the model's input
	out *image.NRGBA // the model's output
}

// Failure is one input that could not be converted.
type Failure struct {
	Path   string
	Reason error
}

// Summary is the outcome of a conversion run.
type Summary struct {
	Total       int           // inputs planned
	Converted   int           // outputs written
	Failed      int           // inputs that could not be converted
	Failures    []Failure     // the failed inputs, in the order they failed
	Elapsed     time.Duration // wall time of the run (the model already loaded)
	ModelTime   time.Duration // time inside session runs, summed over the runs in flight
	Runs        int           // session runs
	Interrupted bool          // cancelled before every input was done
	done        []*job        // the jobs that succeeded
}

// ImagesPerSecond is the converted images over the wall time.
func (s *Summary) ImagesPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Converted) / s.Elapsed.Seconds()
}

// tally collects the outcome of each job from the pipeline's goroutines.
type tally struct {
	mu       sync.Mutex
	sum      Summary
	onFail   func(Failure)
	progress *progress.Bar
}

func (t *tally) fail(j *job, err error) {
	f := Failure{Path: j.src, Reason: err}
	t.mu.Lock()
	t.sum.Failed++
	t.sum.Failures = append(t.sum.Failures, f)
	t.mu.Unlock()
	if t.onFail != nil {
		t.onFail(f)
	}
	t.progress.Add(1)
}

func (t *tally) ok(j *job) {
	t.mu.Lock()
	t.sum.Converted++
	t.sum.done = append(t.sum.done, j)
	t.mu.Unlock()
	t.progress.Add(1)
}

// convertAll converts jobs with m: decoding and encoding run in goroutines
// (cfg.Workers of each) around the goroutines that make the session runs
// (cfg.Parallel), so the disk and the codecs overlap TensorFlow; same-size
// images are batched. It returns when every job has converted or failed, or
// when ctx is cancelled (the summary says so). onFail, if not nil, is called
// for each failure as it happens.
func convertAll(ctx context.Context, m *serving.Model, jobs []job, cfg runConfig, bar *progress.Bar, onFail func(Failure)) *Summary {
	start := time.Now()
	cfg.Batch = max(cfg.Batch, 1)
	cfg.Workers = max(cfg.Workers, 1)
	t := &tally{onFail: onFail, progress: bar}
	t.sum.Total = len(jobs)

	todo := make(chan *job)
	decoded := make(chan item, cfg.Workers)
	batches := make(chan []item)
	encode := make(chan item, cfg.Workers*2)

	go func() { // feeder
		defer close(todo)
		for i := range jobs {
			j := &jobs[i]
			if j.err != nil {
				t.fail(j, j.err)
				continue
			}
			select {
			case todo <- j:
			case <-ctx.Done():
				return
			}
		}
	}()

	var decoders sync.WaitGroup
	for range cfg.Workers {
		decoders.Go(func() {
			for j := range todo {
				img, err := decodeFile(j.src, cfg.Limits)
				if err != nil {
					t.fail(j, err)
					continue
				}
				select {
				case decoded <- item{job: j, in: img}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { decoders.Wait(); close(decoded) }()

	go func() { // batcher
		defer close(batches)
		batchSameSize(ctx, decoded, batches, cfg.Batch, MaxBatchPixels)
	}()

	// Runs in flight share the cores better than one run splitting each
	// op across them (see DefaultParallel); the gate keeps their pixels
	// within what Parallel runs of MaxBatchPixels hold, and lets a larger
	// image run only alone.
	gate := newPixelGate(max(cfg.Parallel, 1) * MaxBatchPixels)
	var runners sync.WaitGroup
	for range max(cfg.Parallel, 1) {
		runners.Go(func() {
			for b := range batches {
				px := batchPixels(b)
				gate.acquire(px)
				began := time.Now()
				runs := translateBatch(m, cfg.Direction, b, t)
				elapsed := time.Since(began)
				gate.release(px)
				t.mu.Lock()
				t.sum.ModelTime += elapsed
				t.sum.Runs += runs
				t.mu.Unlock()
				for _, it := range b {
					if it.out == nil {
						continue
					}
					if !cfg.Compare {
						it.in = nil
					}
					select {
					case encode <- it:
					case <-ctx.Done():
						return
					}
				}
			}
		})
	}
	go func() { runners.Wait(); close(encode) }()

	var encoders sync.WaitGroup
	for range cfg.Workers {
		encoders.Go(func() {
			for it := range encode {
				if err := writeResult(it, cfg); err != nil {
					t.fail(it.job, err)
					continue
				}
				t.ok(it.job)
			}
		})
	}
	encoders.Wait()
	// Drain the earlier stages (they stop at ctx.Done, or have finished).
	for range batches {
	}
	for range decoded {
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	t.sum.Elapsed = time.Since(start)
	t.sum.Interrupted = ctx.Err() != nil && t.sum.Converted+t.sum.Failed < t.sum.Total
	return &t.sum
}

// decodeFile opens and decodes one input.
func decodeFile(path string, lim Limits) (*image.NRGBA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return nil, fmt.Errorf("%w: the file is empty", imageio.ErrNotImage)
	}
	return decodeInput(bufio.NewReaderSize(f, 1<<16), lim)
}

// translateBatch runs one batch, filling in each item's output, and returns
// the number of session runs made. If the batched run fails, each image is
// run alone, so one bad image cannot sink the others; the ones that still
// fail are reported.
func translateBatch(m *serving.Model, dir string, b []item, t *tally) int {
	imgs := make([]*image.NRGBA, len(b))
	for i, it := range b {
		imgs[i] = it.in
	}
	out, err := m.Translate(dir, imgs)
	if err == nil {
		for i := range b {
			b[i].out = out[i]
		}
		return 1
	}
	if len(b) == 1 {
		t.fail(b[0].job, err)
		return 1
	}
	for i := range b {
		out, err := m.Translate(dir, imgs[i:i+1])
		if err != nil {
			t.fail(b[i].job, err)
			continue
		}
		b[i].out = out[0]
	}
	return 1 + len(b)
}

// writeResult writes an item's output and, with -compare, its sheet.
func writeResult(it item, cfg runConfig) error {
	if err := os.MkdirAll(filepath.Dir(it.job.dst), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", it.job.dst, err)
	}
	if err := imageio.WriteFile(it.job.dst, it.out, cfg.Quality); err != nil {
		return err
	}
	if it.job.sheet == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(it.job.sheet), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", it.job.sheet, err)
	}
	return imageio.WriteFile(it.job.sheet, sideBySide(it.in, it.out), cfg.Quality)
}

// batchSameSize groups the images from in by size and sends groups to out:
// a group is complete at maxImages images, or when one more would pass
// maxPixels. Complete groups go first; when none is complete and the
// receiver is idle, the largest partial group goes, so the session never
// waits on a batch that may never fill. At most 2*maxImages images are held
// back; beyond that the input is not read until a group has been sent. It
// returns when in is closed and everything is sent, or when ctx is done.
func batchSameSize(ctx context.Context, in <-chan item, out chan<- []item, maxImages, maxPixels int) {
	type group struct {
		size  image.Point
		items []item
		limit int
	}
	var groups []*group
	pending := 0
	add := func(it item) {
		size := it.in.Rect.Size()
		for _, g := range groups {
			if g.size == size {
				g.items = append(g.items, it)
				pending++
				return
			}
		}
		limit := max(1, min(maxImages, maxPixels/max(size.X*size.Y, 1)))
		groups = append(groups, &group{size: size, items: []item{it}, limit: limit})
		pending++
	}
	// next picks the batch to offer: the oldest complete group, else the
	// largest, else -1.
	next := func() int {
		best := -1
		for i, g := range groups {
			if len(g.items) >= g.limit {
				return i
			}
			if best < 0 || len(g.items) > len(groups[best].items) {
				best = i
			}
		}
		return best
	}
	for in != nil || len(groups) > 0 {
		// Take in whatever is ready first, so that groups fill before a
		// partial one is offered.
	drain:
		for in != nil && pending < 2*maxImages {
			select {
			case it, ok := <-in:
				if !ok {
					in = nil
					break drain
				}
				add(it)
			default:
				break drain
			}
		}
		i := next()
		recv := in
		if pending >= 2*maxImages {
			recv = nil // hold back: send something first
		}
		if i < 0 {
			if recv == nil {
				return // nothing pending and nothing more to come
			}
			select {
			case it, ok := <-recv:
				if !ok {
					in = nil
					continue
				}
				add(it)
			case <-ctx.Done():
				return
			}
			continue
		}
		g := groups[i]
		n := min(len(g.items), g.limit)
		select {
		case it, ok := <-recv:
			if !ok {
				in = nil
				continue
			}
			add(it)
		case out <- g.items[:n:n]:
			pending -= n
			if n == len(g.items) {
				groups = append(groups[:i], groups[i+1:]...)
			} else {
				g.items = g.items[n:]
			}
		case <-ctx.Done():
			return
		}
	}
}

// batchPixels is the number of pixels in a batch.
func batchPixels(b []item) int {
	n := 0
	for _, it := range b {
		n += it.in.Rect.Dx() * it.in.Rect.Dy()
	}
	return n
}

// pixelGate bounds the pixels of the session runs in flight, which is what
// their memory grows with. A run may start when its pixels fit in the
// budget beside the others', or when no other run is in flight: an image
// larger than the budget still converts, alone.
type pixelGate struct {
	mu       sync.Mutex
	cond     *sync.Cond
	budget   int
	inFlight int
}

func newPixelGate(budget int) *pixelGate {
	g := &pixelGate{budget: budget}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// acquire waits until a run of n pixels may start, and counts it in.
func (g *pixelGate) acquire(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.inFlight > 0 && g.inFlight+n > g.budget {
		g.cond.Wait()
	}
	g.inFlight += n
}

// release counts a finished run of n pixels out.
func (g *pixelGate) release(n int) {
	g.mu.Lock()
	g.inFlight -= n
	g.mu.Unlock()
	g.cond.Broadcast()
}
