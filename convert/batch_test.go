package main

import (
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
