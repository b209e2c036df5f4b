package dataset

import (
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
	"golang.org/x/image/draw"

	"cyclegan/internal/imageio"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("dataset: loader closed")

// Domain indices, as used in Skip.Domain and in the randomness derivation.
const (
	DomainA = 0 // women (woman/ or trainA/)
	DomainB = 1 // men (man/ or trainB/)
)

// Config controls a Loader.
type Config struct {
	// LoadSize is the side every image is first resized to (bicubic,
	// ignoring the aspect ratio; smaller images are upscaled). 0 means Size.
	LoadSize int
	// Size is the side of the random square crop fed to the network.
	// Required.
	Size int
	// Batch is the number of images per domain in a batch; 0 means 1.
	Batch int
	// Seed determines every random choice: the epoch permutations, the
	// partner images of the smaller domain, the crops and the flips.
	Seed int64
	// Workers is the number of decoding goroutines; <= 0 means
	// runtime.NumCPU(). It does not affect the output.
	Workers int
	// Prefetch is the number of batches prepared ahead of Next; <= 0 means
	// enough to keep every worker busy: ceil(Workers / (2*Batch)) + 1.
	Prefetch int
	// NoFlip disables the random horizontal flip.
	NoFlip bool
	// MaxPixels bounds the decoded size of any image (decompression bombs
	// are skipped as bad files); <= 0 means imageio.DefaultMaxPixels.
	MaxPixels int
	// Log receives one warning per skipped file; nil means the logrus
	// standard logger.
	Log logrus.FieldLogger
}

// Position identifies a batch: the epoch and the step within it, both from
// 0. It is what a checkpoint stores to resume the data stream.
type Position struct {
	Epoch int `json:"epoch"`
	Step  int `json:"step"`
}

// Batch is one training step's input: N images of each domain, H x W x 3,
// float32 in [-1, 1], laid out NHWC.
type Batch struct {
	// A and B hold N*H*W*3 values each: images of domain A and domain B.
	A, B []float32
	// Position is where this batch sits in the stream.
	Position Position
	// Next is the position of the following batch: save it with the model
	// once this batch has been trained on, and pass it to NewLoader to
	// resume.
	Next Position
	// N, H and W are the batch size and the image height and width.
	N, H, W int
}

// Skip records a file that was skipped because it could not be decoded.
type Skip struct {
	Domain int    // DomainA or DomainB
	Path   string // the file
	Reason string // the decode error
}

// Loader produces training batches. Decoding and augmentation run on
// Config.Workers goroutines behind a queue of Config.Prefetch batches, yet
// the output depends only on the files, Config (minus Workers, Prefetch and
// Log) and the start Position.
//
// Epochs: an epoch is max(|A|, |B|) images per domain, in
// max(|A|, |B|)/Batch steps (at least 1; the remainder is dropped). The
// larger domain (A on a tie) is visited in a fresh random permutation each
// epoch; the partner for each image is drawn uniformly at random from the
// other domain, as in the reference CycleGAN implementation.
//
// Bad files (not images, corrupt, truncated, empty, too large) are logged
// once, remembered, and replaced by the next readable file of the same
// domain in sorted order, so the stream stays deterministic. Next fails only
// when every file of a domain is bad.
//
// Next and Release must be called from one goroutine at a time; Close may be
// called from any goroutine.
type Loader struct {
	cfg       Config
	log       logrus.FieldLogger
	sampleLen int // H*W*3 values per image
	epochSize int
	steps     int
	larger    int // the domain visited by permutation
	domains   [2]*domain

	ctx     context.Context
	cancel  context.CancelFunc
	jobs    chan *job
	tasks   chan task
	wg      sync.WaitGroup
	closing sync.Once

	pending *job  // dequeued by Next but not yet returned (ctx expired)
	err     error // sticky error from a failed batch

	scalerMu sync.RWMutex
	scalers  map[image.Point]draw.Scaler

	bufs sync.Pool // *[]float32 of Batch*sampleLen values
}

// domain is one side's files plus what is known about bad ones.
type domain struct {
	name  string
	dir   string
	paths []string

	mu   sync.Mutex
	bad  map[int]string
	skip []Skip
}

// sample is the fully determined recipe for one image of a batch.
type sample struct {
	dom, slot int
	file      int // index into the domain's paths, before bad-file replacement
	x, y      int // crop origin in the LoadSize x LoadSize image
	flip      bool
}

type task struct {
	job *job
	sample
}

// job is one batch in flight.
type job struct {
	batch     *Batch
	remaining atomic.Int32
	done      chan struct{}
	errOnce   sync.Once
	err       error
}

func (j *job) finish(err error) {
	if err != nil {
		j.errOnce.Do(func() { j.err = err })
	}
	if j.remaining.Add(-1) == 0 {
		close(j.done)
	}
}

// maxScalers bounds the cache of precomputed resize kernels (one per distinct
// source size); beyond it images are resized without caching, identically.
const maxScalers = 256

// NewLoader validates cfg, starts the workers and begins preparing batches
// from start. Call Close when done.
func NewLoader(files *Files, cfg Config, start Position) (*Loader, error) {
	if files == nil || len(files.A) == 0 || len(files.B) == 0 {
		return nil, errors.New("dataset: new loader: both domains need at least one file")
	}
	if cfg.Size <= 0 {
		return nil, fmt.Errorf("dataset: new loader: size %d must be positive", cfg.Size)
	}
	if cfg.LoadSize == 0 {
		cfg.LoadSize = cfg.Size
	}
	if cfg.LoadSize < cfg.Size {
		return nil, fmt.Errorf("dataset: new loader: load size %d is smaller than crop size %d", cfg.LoadSize, cfg.Size)
	}
	if cfg.Batch < 0 {
		return nil, fmt.Errorf("dataset: new loader: batch %d is negative", cfg.Batch)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 1
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = (cfg.Workers+2*cfg.Batch-1)/(2*cfg.Batch) + 1
	}
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = imageio.DefaultMaxPixels
	}
	if cfg.Log == nil {
		cfg.Log = logrus.StandardLogger()
	}
	l := &Loader{
		cfg:       cfg,
		log:       cfg.Log,
		sampleLen: cfg.Size * cfg.Size * imageio.Channels,
		epochSize: max(len(files.A), len(files.B)),
		scalers:   make(map[image.Point]draw.Scaler),
	}
	l.steps = max(l.epochSize/cfg.Batch, 1)
	if len(files.B) > len(files.A) {
		l.larger = DomainB
	}
	l.domains[DomainA] = &domain{name: files.NameA, dir: files.DirA, paths: files.A, bad: map[int]string{}}
	l.domains[DomainB] = &domain{name: files.NameB, dir: files.DirB, paths: files.B, bad: map[int]string{}}
	if start.Epoch < 0 || start.Step < 0 || start.Step >= l.steps {
		return nil, fmt.Errorf("dataset: new loader: start position %+v outside epoch of %d steps", start, l.steps)
	}
	n := cfg.Batch * l.sampleLen
	l.bufs.New = func() any { b := make([]float32, n); return &b }

	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.jobs = make(chan *job, cfg.Prefetch)
	l.tasks = make(chan task, 2*cfg.Batch)
	l.wg.Add(1 + cfg.Workers)
	go l.produce(start)
	for range cfg.Workers {
		go l.work()
	}
	l.log.WithFields(logrus.Fields{
		"domain_a": files.NameA, "images_a": len(files.A),
		"domain_b": files.NameB, "images_b": len(files.B),
		"steps_per_epoch": l.steps, "batch": cfg.Batch,
		"load_size": cfg.LoadSize, "size": cfg.Size,
		"workers": cfg.Workers, "prefetch": cfg.Prefetch,
		"start_epoch": start.Epoch, "start_step": start.Step,
	}).Info("dataset loader started")
	return l, nil
}

// StepsPerEpoch returns max(|A|, |B|) / Batch, at least 1.
func (l *Loader) StepsPerEpoch() int { return l.steps }

// EpochSize returns max(|A|, |B|), the number of images of each domain that
// an epoch nominally covers.
func (l *Loader) EpochSize() int { return l.epochSize }

// Advance returns the position after p.
func (l *Loader) Advance(p Position) Position {
	p.Step++
	if p.Step >= l.steps {
		p.Epoch, p.Step = p.Epoch+1, 0
	}
	return p
}

// Next returns the next batch in order. It blocks until the batch is ready
// or ctx is done; a batch interrupted by ctx is returned by the following
// call. After a batch fails (every file of a domain unreadable) the same
// error is returned forever. After Close it returns ErrClosed.
func (l *Loader) Next(ctx context.Context) (*Batch, error) {
	if l.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if l.err != nil {
		return nil, l.err
	}
	if l.pending == nil {
		select {
		case j, ok := <-l.jobs:
			if !ok {
				return nil, ErrClosed
			}
			l.pending = j
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.ctx.Done():
			return nil, ErrClosed
		}
	}
	j := l.pending
	select {
	case <-j.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.ctx.Done():
		return nil, ErrClosed
	}
	l.pending = nil
	if j.err != nil {
		l.err = j.err
		return nil, j.err
	}
	return j.batch, nil
}

// Release hands a batch's buffers back for reuse. Optional: call it only
// once the batch's A and B are no longer referenced.
func (l *Loader) Release(b *Batch) {
	if b == nil || len(b.A) != l.cfg.Batch*l.sampleLen || len(b.B) != len(b.A) {
		return
	}
	a, bb := b.A, b.B
	b.A, b.B = nil, nil
	l.bufs.Put(&a)
	l.bufs.Put(&bb)
}

// Close stops the workers and waits for them. It is safe to call more than
// once.
func (l *Loader) Close() error {
	l.closing.Do(func() {
		l.cancel()
		l.wg.Wait()
	})
	return nil
}

// Skipped returns how many distinct files have been skipped so far.
func (l *Loader) Skipped() int {
	n := 0
	for _, d := range l.domains {
		d.mu.Lock()
		n += len(d.skip)
		d.mu.Unlock()
	}
	return n
}

// SkippedFiles returns the files skipped so far, domain A first, each domain
// sorted by path.
func (l *Loader) SkippedFiles() []Skip {
	var out []Skip
	for _, d := range l.domains {
		d.mu.Lock()
		s := slices.Clone(d.skip)
		d.mu.Unlock()
		slices.SortFunc(s, func(a, b Skip) int {
			switch {
			case a.Path < b.Path:
				return -1
			case a.Path > b.Path:
				return 1
			}
			return 0
		})
		out = append(out, s...)
	}
	return out
}

// permutation returns the visiting order of the larger domain in epoch e.
func (l *Loader) permutation(epoch int) []int {
	s := newStream(l.cfg.Seed, [5]uint64{tagPermutation, uint64(epoch)})
	return s.permutation(len(l.domains[l.larger].paths))
}

// plan returns the recipe for one image. perm must be permutation(epoch).
func (l *Loader) plan(perm []int, epoch, step, slot, dom int) sample {
	s := newStream(l.cfg.Seed, [5]uint64{tagSample, uint64(epoch), uint64(step), uint64(slot), uint64(dom)})
	// The draw order is fixed, and every draw is made whether used or not,
	// so that no option changes the other choices.
	partner := s.intn(len(l.domains[dom].paths))
	room := l.cfg.LoadSize - l.cfg.Size + 1
	x, y := s.intn(room), s.intn(room)
	flip := s.next()&1 == 1 && !l.cfg.NoFlip
	file := partner
	if dom == l.larger {
		file = perm[(step*l.cfg.Batch+slot)%len(perm)]
	}
	return sample{dom: dom, slot: slot, file: file, x: x, y: y, flip: flip}
}

// produce enqueues batches from start on, in order, until the loader closes.
func (l *Loader) produce(start Position) {
	defer l.wg.Done()
	defer close(l.jobs)
	defer close(l.tasks)
	pos, permEpoch := start, -1
	var perm []int
	for {
		if pos.Epoch != permEpoch {
			perm, permEpoch = l.permutation(pos.Epoch), pos.Epoch
		}
		j := &job{
			batch: &Batch{
				A:        *l.bufs.Get().(*[]float32),
				B:        *l.bufs.Get().(*[]float32),
				Position: pos,
				Next:     l.Advance(pos),
				N:        l.cfg.Batch, H: l.cfg.Size, W: l.cfg.Size,
			},
			done: make(chan struct{}),
		}
		j.remaining.Store(int32(2 * l.cfg.Batch))
		select {
		case l.jobs <- j:
		case <-l.ctx.Done():
			return
		}
		for dom := range 2 {
			for slot := range l.cfg.Batch {
				t := task{job: j, sample: l.plan(perm, pos.Epoch, pos.Step, slot, dom)}
				select {
				case l.tasks <- t:
				case <-l.ctx.Done():
					return
				}
			}
		}
		pos = l.Advance(pos)
	}
}

// work runs tasks until the loader closes.
func (l *Loader) work() {
	defer l.wg.Done()
	scratch := image.NewNRGBA(image.Rect(0, 0, l.cfg.LoadSize, l.cfg.LoadSize))
	for {
		select {
		case <-l.ctx.Done():
			return
		case t, ok := <-l.tasks:
			if !ok {
				return
			}
			t.job.finish(l.fill(t, scratch))
		}
	}
}

// fill decodes, resizes, crops and flips one image into its batch slot.
func (l *Loader) fill(t task, scratch *image.NRGBA) error {
	img, err := l.load(l.domains[t.dom], t.file)
	if err != nil {
		return err
	}
	resized := img
	if img.Rect.Dx() != l.cfg.LoadSize || img.Rect.Dy() != l.cfg.LoadSize {
		imageio.ScaleInto(l.scaler(img.Rect.Size()), scratch, img)
		resized = scratch
	}
	dst := t.job.batch.A
	if t.dom == DomainB {
		dst = t.job.batch.B
	}
	dst = dst[t.slot*l.sampleLen : (t.slot+1)*l.sampleLen]
	crop := image.Rect(t.x, t.y, t.x+l.cfg.Size, t.y+l.cfg.Size)
	return imageio.ToFloatRegion(dst, resized, crop, t.flip)
}

// scaler returns a cached Catmull-Rom scaler from size src to LoadSize².
func (l *Loader) scaler(src image.Point) draw.Scaler {
	l.scalerMu.RLock()
	s, ok := l.scalers[src]
	l.scalerMu.RUnlock()
	if ok {
		return s
	}
	l.scalerMu.Lock()
	defer l.scalerMu.Unlock()
	if s, ok := l.scalers[src]; ok {
		return s
	}
	if len(l.scalers) >= maxScalers {
		return draw.CatmullRom
	}
	s = draw.CatmullRom.NewScaler(l.cfg.LoadSize, l.cfg.LoadSize, src.X, src.Y)
	l.scalers[src] = s
	return s
}

// load decodes file idx of d, or, if it is bad, the next readable file in
// sorted order (wrapping around).
func (l *Loader) load(d *domain, idx int) (*image.NRGBA, error) {
	n := len(d.paths)
	for k := range n {
		i := (idx + k) % n
		if d.isBad(i) {
			continue
		}
		img, err := imageio.DecodeFile(d.paths[i], l.cfg.MaxPixels)
		if err == nil {
			return img, nil
		}
		l.markBad(d, i, err)
	}
	return nil, fmt.Errorf("dataset: all %d files of domain %s (%s) are unreadable", n, d.name, d.dir)
}

func (d *domain) isBad(i int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, bad := d.bad[i]
	return bad
}

// markBad records file i of d as unreadable and warns the first time.
func (l *Loader) markBad(d *domain, i int, err error) {
	d.mu.Lock()
	_, seen := d.bad[i]
	if !seen {
		d.bad[i] = err.Error()
		dom := DomainA
		if d == l.domains[DomainB] {
			dom = DomainB
		}
		d.skip = append(d.skip, Skip{Domain: dom, Path: d.paths[i], Reason: err.Error()})
	}
	d.mu.Unlock()
	if !seen {
		l.log.WithFields(logrus.Fields{
			"path":   d.paths[i],
			"domain": d.name,
			"reason": reason(err),
		}).WithError(err).Warn("skipping unreadable image")
	}
}

// reason names the kind of decode failure for the log.
func reason(err error) string {
	switch {
	case errors.Is(err, imageio.ErrNotImage):
		return "not an image"
	case errors.Is(err, imageio.ErrCorrupt):
		return "corrupt or truncated"
	case errors.Is(err, imageio.ErrUnsupported):
		return "unsupported format feature"
	case errors.Is(err, imageio.ErrTooLarge):
		return "too large"
	}
	return "read error"
}
