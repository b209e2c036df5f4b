package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cyclegan/graph"
	"cyclegan/internal/serving"
	"cyclegan/tools/faces"
)

func TestBatchesHoldOneSizeEachWithinBothBoundsAndEveryImageOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sizes     []image.Point
		maxImages int
		maxPixels int
	}{
		{"one size", repeat(image.Pt(64, 64), 21), 8, MaxBatchPixels},
		{"sizes interleaved", interleave(30, image.Pt(64, 64), image.Pt(70, 70), image.Pt(37, 53)), 4, MaxBatchPixels},
		{"every size different", distinct(25), 8, MaxBatchPixels},
		{"pixel budget below -batch", repeat(image.Pt(100, 100), 9), 8, 25_000},
		{"images over the pixel budget go alone", repeat(image.Pt(300, 300), 3), 8, 25_000},
		{"batch of one", interleave(7, image.Pt(8, 8), image.Pt(9, 9)), 1, MaxBatchPixels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := make(chan item)
			out := make(chan []item)
			go func() {
				defer close(out)
				batchSameSize(context.Background(), in, out, tc.maxImages, tc.maxPixels)
			}()
			go func() {
				defer close(in)
				for i, s := range tc.sizes {
					in <- item{job: &job{src: fmt.Sprint(i)}, in: image.NewNRGBA(image.Rectangle{Max: s})}
				}
			}()
			seen := map[string]bool{}
			for b := range out {
				if len(b) == 0 || len(b) > tc.maxImages {
					t.Fatalf("a batch of %d, want 1 to %d", len(b), tc.maxImages)
				}
				size := b[0].in.Rect.Size()
				if len(b) > 1 && len(b)*size.X*size.Y > tc.maxPixels {
					t.Errorf("a batch of %d images of %v passes the pixel budget %d", len(b), size, tc.maxPixels)
				}
				for _, it := range b {
					if it.in.Rect.Size() != size {
						t.Fatalf("a batch mixes %v and %v", size, it.in.Rect.Size())
					}
					if seen[it.job.src] {
						t.Fatalf("image %s sent twice", it.job.src)
					}
					seen[it.job.src] = true
				}
			}
			if len(seen) != len(tc.sizes) {
				t.Errorf("%d images came out, %d went in", len(seen), len(tc.sizes))
			}
		})
	}
}

func TestCancellingAConversionStopsItAndSaysSo(t *testing.T) {
	m, err := serving.LoadModel(testModel(t), []string{"woman2man"}, graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	for i := range 60 {
		writeImage(t, filepath.Join(in, fmt.Sprintf("%02d.png", i)), face(uint64(i), faces.Woman, 32))
	}
	jobs, err := plan(in, out, "png", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var sum *Summary
	done := make(chan struct{})
	go func() {
		defer close(done)
		sum = convertAll(ctx, m, jobs, runConfig{Direction: "woman2man", Batch: 2, Workers: 1,
			Limits: Limits{MaxPixels: DefaultMaxPixels, MaxModelPixels: DefaultMaxModelPixels}}, nil,
			func(Failure) {})
	}()
	for written := false; !written; time.Sleep(time.Millisecond) {
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			written = written || !strings.HasPrefix(e.Name(), ".") // not a temporary file
		}
	}
	cancel()
	<-done
	if !sum.Interrupted || sum.Converted == 0 || sum.Converted >= 60 || sum.Failed != 0 {
		t.Errorf("after cancelling: %d converted, %d failed, interrupted %v; want some converted, none failed, interrupted",
			sum.Converted, sum.Failed, sum.Interrupted)
	}
}

func TestPixelGateAdmitsRunsWithinTheBudgetAndALargerOneOnlyAlone(t *testing.T) {
	for _, tc := range []struct {
		name     string
		budget   int
		inFlight []int // admitted first, in order
		next     int
		admitted bool // whether next may start beside them
	}{
		{"first run, within budget", 100, nil, 60, true},
		{"second run that fits", 100, []int{60}, 40, true},
		{"second run that does not fit", 100, []int{60}, 41, false},
		{"larger than the budget, alone", 100, nil, 500, true},
		{"larger than the budget, beside another", 100, []int{10}, 500, false},
		{"anything beside a large one", 100, []int{500}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newPixelGate(tc.budget)
			for _, n := range tc.inFlight {
				g.acquire(n)
			}
			started := make(chan struct{})
			go func() { g.acquire(tc.next); close(started) }()
			select {
			case <-started:
				if !tc.admitted {
					t.Fatalf("a run of %d started beside %v under a budget of %d", tc.next, tc.inFlight, tc.budget)
				}
			case <-time.After(100 * time.Millisecond):
				if tc.admitted {
					t.Fatalf("a run of %d waited beside %v under a budget of %d", tc.next, tc.inFlight, tc.budget)
				}
				for _, n := range tc.inFlight {
					g.release(n)
				}
				select {
				case <-started: // admitted once the others finished
				case <-time.After(5 * time.Second):
					t.Fatalf("a run of %d still waits after every other run finished", tc.next)
				}
			}
		})
	}
}

func TestParallelRunsWriteTheSameFilesAsOneRunAtATime(t *testing.T) {
	m, err := serving.LoadModel(testModel(t), []string{"woman2man"}, graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	in := filepath.Join(t.TempDir(), "in")
	// Sizes that batch, that fill the pixel budget, and one over it.
	sizes := []int{32, 32, 32, 48, 48, 200, 200, 256, 300, 32, 48}
	for i, s := range sizes {
		writeImage(t, filepath.Join(in, fmt.Sprintf("%02d.png", i)), face(uint64(i), faces.Woman, s))
	}
	outputs := map[int]map[string][]byte{}
	for _, parallel := range []int{1, 2, 3} {
		out := filepath.Join(t.TempDir(), fmt.Sprint("out", parallel))
		jobs, err := plan(in, out, "png", false)
		if err != nil {
			t.Fatal(err)
		}
		sum := convertAll(context.Background(), m, jobs, runConfig{Direction: "woman2man", Batch: 4, Workers: 2, Parallel: parallel,
			Limits: Limits{MaxPixels: DefaultMaxPixels, MaxModelPixels: DefaultMaxModelPixels}}, nil, nil)
		if sum.Failed > 0 || sum.Converted != len(sizes) {
			t.Fatalf("-parallel %d: %d converted, %d failed %v", parallel, sum.Converted, sum.Failed, sum.Failures)
		}
		outputs[parallel] = map[string][]byte{}
		for i := range sizes {
			name := fmt.Sprintf("%02d.png", i)
			b, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			outputs[parallel][name] = b
		}
	}
	for _, parallel := range []int{2, 3} {
		for name, want := range outputs[1] {
			if !bytes.Equal(outputs[parallel][name], want) {
				t.Errorf("-parallel %d wrote a different %s than one run at a time", parallel, name)
			}
		}
	}
}

func repeat(p image.Point, n int) []image.Point {
	s := make([]image.Point, n)
	for i := range s {
		s[i] = p
	}
	return s
}

func interleave(n int, ps ...image.Point) []image.Point {
	s := make([]image.Point, n)
	for i := range s {
		s[i] = ps[i%len(ps)]
	}
	return s
}

func distinct(n int) []image.Point {
	s := make([]image.Point, n)
	for i := range s {
		s[i] = image.Pt(8+i, 8)
	}
	return s
}

// BenchmarkConvert measures the whole pipeline (read, decode, batch, run,
// encode, write) on synthetic faces with the tiny test model; it reports
// images/s. For the real model's figures, time the command on a folder.
func BenchmarkConvert(b *testing.B) {
	m, err := serving.LoadModel(testModel(b), []string{"woman2man"}, graph.SessionConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for _, size := range []int{64, 256} {
		b.Run(fmt.Sprintf("%dx%d", size, size), func(b *testing.B) {
			in := filepath.Join(b.TempDir(), "in")
			const n = 16
			for i := range n {
				writeImage(b, filepath.Join(in, fmt.Sprintf("%02d.png", i)), face(uint64(i), faces.Woman, size))
			}
			images := 0
			b.ResetTimer()
			for b.Loop() {
				jobs, err := plan(in, filepath.Join(b.TempDir(), "out"), "png", false)
				if err != nil {
					b.Fatal(err)
				}
				sum := convertAll(context.Background(), m, jobs, runConfig{Direction: "woman2man", Batch: 8, Workers: 2,
					Limits: Limits{MaxPixels: DefaultMaxPixels, MaxModelPixels: DefaultMaxModelPixels}}, nil, nil)
				if sum.Failed > 0 {
					b.Fatal(sum.Failures[0].Reason)
				}
				images += sum.Converted
			}
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
