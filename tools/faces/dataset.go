package faces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Version identifies the drawing code. It is stored in the manifest so that
// [EnsureDataset] regenerates data sets written by an older renderer.
const Version = 1

// Directory and file names of a data set.
const (
	TrainDir     = "train"         // training images, one subdirectory per Gender
	TestDir      = "test"          // paired test images, one subdirectory per Gender
	ManifestFile = "manifest.json" // written last; its presence marks a complete data set
)

// Options describes a data set. Two data sets written with equal Options
// (and the same Version) are byte-identical.
type Options struct {
	// Size is the side of the square images in pixels, 16 to 1024.
	Size int `json:"size"`
	// TrainPerDomain is the number of training images of each gender. The
	// women and the men are different identities.
	TrainPerDomain int `json:"train_per_domain"`
	// TestPairs is the number of test identities, each rendered as a woman
	// and as a man.
	TestPairs int `json:"test_pairs"`
	// Seed selects the identities.
	Seed int64 `json:"seed"`
}

// DefaultOptions returns the options of the default training run: 64×64
// images, 1000 training images per domain and 100 test pairs, seed 1.
func DefaultOptions() Options {
	return Options{Size: 64, TrainPerDomain: 1000, TestPairs: 100, Seed: 1}
}

// Limits enforced by [Options.Validate].
const (
	MinSize   = 16
	MaxSize   = 1024
	MaxImages = 1_000_000 // per domain and split
)

// Validate reports whether the options describe a data set that can be
// written.
func (o Options) Validate() error {
	if o.Size < MinSize || o.Size > MaxSize {
		return fmt.Errorf("faces: image size %d out of range [%d, %d]", o.Size, MinSize, MaxSize)
	}
	if o.TrainPerDomain <= 0 || o.TrainPerDomain > MaxImages {
		return fmt.Errorf("faces: training images per domain %d out of range [1, %d]", o.TrainPerDomain, MaxImages)
	}
	if o.TestPairs <= 0 || o.TestPairs > MaxImages {
		return fmt.Errorf("faces: test pairs %d out of range [1, %d]", o.TestPairs, MaxImages)
	}
	return nil
}

// Split names a disjoint set of identities of a data set.
type Split int

// The identity sets of a data set.
const (
	TrainWomen Split = iota // identities of train/woman
	TrainMen                // identities of train/man
	TestPairs               // identities of test/woman and test/man
)

// SplitIdentity returns identity number index of split s in the data set
// with the given seed. Its random stream is derived only from seed, s and
// index, so it does not depend on the order of generation.
func SplitIdentity(seed int64, s Split, index int) Identity {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(s)<<48^uint64(index)))
	return NewIdentity(r)
}

// FileName returns the base name of image index of split s for gender g:
// "woman_00042.png" and "man_00042.png" for training images and
// "id00042.png" for both images of test pair 42.
func FileName(s Split, g Gender, index int) string {
	if s == TestPairs {
		return fmt.Sprintf("id%05d.png", index)
	}
	return fmt.Sprintf("%s_%05d.png", g, index)
}

// Manifest is the content of the manifest.json file of a data set.
type Manifest struct {
	// Generator is the import path of this package.
	Generator string `json:"generator"`
	// Version is the renderer Version that drew the images.
	Version int `json:"version"`
	// Options are the options the data set was written with.
	Options Options `json:"options"`
	// Counts maps each image directory, relative to the root and with
	// forward slashes ("train/woman"), to its number of images.
	Counts map[string]int `json:"counts"`
}

const generatorName = "cyclegan/tools/faces"

func newManifest(opt Options) Manifest {
	m := Manifest{Generator: generatorName, Version: Version, Options: opt, Counts: map[string]int{}}
	for _, g := range []Gender{Woman, Man} {
		m.Counts[TrainDir+"/"+g.String()] = opt.TrainPerDomain
		m.Counts[TestDir+"/"+g.String()] = opt.TestPairs
	}
	return m
}

// ReadManifest reads root/manifest.json.
func ReadManifest(root string) (Manifest, error) {
	var m Manifest
	path := filepath.Join(root, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("parse %s: %w", path, err)
	}
	return m, nil
}

// matches reports whether m describes the data set that opt would produce.
func (m Manifest) matches(opt Options) bool {
	if m.Generator != generatorName || m.Version != Version || m.Options != opt {
		return false
	}
	want := newManifest(opt).Counts
	if len(m.Counts) != len(want) {
		return false
	}
	for k, v := range want {
		if m.Counts[k] != v {
			return false
		}
	}
	return true
}

// EnsureDataset makes sure root holds the data set described by opt. If
// root/manifest.json already describes it, EnsureDataset returns at once
// with created false; otherwise it writes the data set with [WriteDataset]
// and returns created true.
//
// Only the manifest is checked, not the images: a data set is trusted once
// its manifest is in place, because [WriteDataset] writes it last.
func EnsureDataset(root string, opt Options) (created bool, err error) {
	if err := opt.Validate(); err != nil {
		return false, err
	}
	if m, err := ReadManifest(root); err == nil && m.matches(opt) {
		return false, nil
	}
	if err := WriteDataset(root, opt); err != nil {
		// Another process may have written the same data set meanwhile.
		if m, merr := ReadManifest(root); merr == nil && m.matches(opt) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// WriteDataset renders the data set described by opt and puts it at root,
// replacing any data set already there.
//
// The images are written, in parallel, into a temporary directory next to
// root, which is renamed to root only when complete, with manifest.json
// written last. An interrupted run therefore never leaves an incomplete data
// set at root; at worst it leaves a hidden ".<name>.tmp-*" directory next to
// root, which a later call removes once it has been idle for ten minutes.
//
// To avoid deleting unrelated files, WriteDataset refuses to replace a
// non-empty root that has no manifest.json.
func WriteDataset(root string, opt Options) error {
	if err := opt.Validate(); err != nil {
		return err
	}
	root = filepath.Clean(root)
	parent, base := filepath.Dir(root), filepath.Base(root)
	if base == "." || base == string(filepath.Separator) {
		return fmt.Errorf("faces: invalid data set root %q", root)
	}
	if err := checkReplaceable(root); err != nil {
		return err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	removeStale(parent, base)

	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("create temporary directory in %s: %w", parent, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	// MkdirTemp creates the directory with mode 0700; use the usual mode.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := writeImages(tmp, opt); err != nil {
		return err
	}
	b, err := json.MarshalIndent(newManifest(opt), "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	b = append(b, '\n')
	mpath := filepath.Join(tmp, ManifestFile)
	if err := os.WriteFile(mpath, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", mpath, err)
	}
	if err := swapInto(tmp, root); err != nil {
		return err
	}
	done = true
	return nil
}

// checkReplaceable returns an error if root exists and is something other
// than an empty directory or a generated data set.
func checkReplaceable(root string) error {
	st, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat %s: %w", root, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("faces: data set root %s exists and is not a directory", root)
	}
	if _, err := os.Stat(filepath.Join(root, ManifestFile)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("read %s: %w", root, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("faces: %s is not empty and has no %s; refusing to replace it", root, ManifestFile)
	}
	return nil
}

// swapInto moves the completed directory tmp to root, replacing root.
func swapInto(tmp, root string) error {
	err := os.Rename(tmp, root)
	if err == nil {
		return nil
	}
	if _, serr := os.Stat(root); serr != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, root, err)
	}
	// root exists: move it aside first, then move the new data set in.
	old := tmp + ".old"
	if err := os.Rename(root, old); err != nil {
		return fmt.Errorf("move old data set %s aside: %w", root, err)
	}
	if err := os.Rename(tmp, root); err != nil {
		if rerr := os.Rename(old, root); rerr != nil {
			return fmt.Errorf("rename %s to %s: %w (and restoring the old data set failed: %v)", tmp, root, err, rerr)
		}
		return fmt.Errorf("rename %s to %s: %w", tmp, root, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove old data set %s: %w", old, err)
	}
	return nil
}

// staleAge is how long a temporary directory must have made no progress
// before it is considered left over by an interrupted run and removed. A
// running generation touches its directory every few images.
const staleAge = 10 * time.Minute

// removeStale deletes leftovers of interrupted runs next to root. Errors are
// ignored: the leftovers are hidden and harmless.
func removeStale(parent, base string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp-"
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleAge {
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}

// job is one identity to render: a training image or a test pair.
type job struct {
	split Split
	index int
}

// writeImages renders all images of opt into dir using one goroutine per CPU.
func writeImages(dir string, opt Options) error {
	for _, d := range []string{TrainDir, TestDir} {
		for _, g := range []Gender{Woman, Man} {
			p := filepath.Join(dir, d, g.String())
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", p, err)
			}
		}
	}
	jobs := make([]job, 0, 2*opt.TrainPerDomain+opt.TestPairs)
	for i := range opt.TestPairs {
		jobs = append(jobs, job{TestPairs, i})
	}
	for i := range opt.TrainPerDomain {
		jobs = append(jobs, job{TrainWomen, i}, job{TrainMen, i})
	}

	var (
		next     atomic.Int64
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	workers := min(runtime.NumCPU(), len(jobs))
	for range workers {
		wg.Go(func() {
			var buf bytes.Buffer
			enc := png.Encoder{CompressionLevel: png.DefaultCompression}
			write := func(id Identity, s Split, g Gender, index int) error {
				sub := TrainDir
				if s == TestPairs {
					sub = TestDir
				}
				path := filepath.Join(dir, sub, g.String(), FileName(s, g, index))
				buf.Reset()
				if err := enc.Encode(&buf, Render(id, g, opt.Size)); err != nil {
					return fmt.Errorf("encode %s: %w", path, err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("write %s: %w", path, err)
				}
				return nil
			}
			for !failed.Load() {
				k := int(next.Add(1) - 1)
				if k >= len(jobs) {
					return
				}
				j := jobs[k]
				id := SplitIdentity(opt.Seed, j.split, j.index)
				var err error
				switch j.split {
				case TrainWomen:
					err = write(id, j.split, Woman, j.index)
				case TrainMen:
					err = write(id, j.split, Man, j.index)
				default:
					err = write(id, j.split, Woman, j.index)
					if err == nil {
						err = write(id, j.split, Man, j.index)
					}
				}
				if err == nil && k%64 == 0 {
					// Show progress to removeStale in other processes.
					now := time.Now()
					err = os.Chtimes(dir, now, now)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// Preview returns a grid of n test identities of the data set with the given
// seed, each drawn at size×size: women in the top row and the same
// identities as men in the bottom row. n is clamped to [1, 64] and size to
// [MinSize, MaxSize].
func Preview(seed int64, n, size int) *image.NRGBA {
	n = max(1, min(n, 64))
	size = max(MinSize, min(size, MaxSize))
	grid := image.NewNRGBA(image.Rect(0, 0, n*size, 2*size))
	for i := range n {
		id := SplitIdentity(seed, TestPairs, i)
		for row, g := range []Gender{Woman, Man} {
			r := image.Rect(i*size, row*size, (i+1)*size, (row+1)*size)
			draw.Draw(grid, r, Render(id, g, size), image.Point{}, draw.Src)
		}
	}
	return grid
}
