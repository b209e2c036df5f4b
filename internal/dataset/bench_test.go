package dataset

import (
	"context"
	"fmt"
	"image"
	"path/filepath"
	"runtime"
	"testing"
)

// faceLike returns a CelebA-sized (178x218) image with smooth structure and
// some texture, so JPEG decoding costs what it does on real photos.
func faceLike(seed int) *image.NRGBA {
	const w, h = 178, 218
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	s := newStream(int64(seed), [5]uint64{})
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			n := uint8(s.next() % 24)
			img.Pix[i] = uint8(x*200/w) + n
			img.Pix[i+1] = uint8(y*200/h) + n
			img.Pix[i+2] = uint8((x+y+seed*17)%200) + n
			img.Pix[i+3] = 255
		}
	}
	return img
}

// BenchmarkLoader measures end-to-end throughput (decode 178x218 JPEG,
// bicubic resize, crop, flip, float conversion) with batch 1 and the default
// worker count; images/s counts both domains.
func BenchmarkLoader(b *testing.B) {
	root := b.TempDir()
	for i := 0; i < 16; i++ {
		writeFile(b, filepath.Join(root, "woman", fmt.Sprintf("%02d.jpg", i)), jpegBytes(b, faceLike(i)))
		writeFile(b, filepath.Join(root, "man", fmt.Sprintf("%02d.jpg", i)), jpegBytes(b, faceLike(100+i)))
	}
	files, err := Scan(root)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name           string
		load, size     int
		workers, batch int
	}{
		{"64from72", 72, 64, 0, 1},
		{"256from286", 286, 256, 0, 1},
		{"256from286/workers=1", 286, 256, 1, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log, _ := quietLog()
			l, err := NewLoader(files, Config{
				LoadSize: bc.load, Size: bc.size, Batch: bc.batch, Seed: 1,
				Workers: bc.workers, Log: log,
			}, Position{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch, err := l.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				l.Release(batch)
			}
			b.ReportMetric(float64(2*bc.batch*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric(float64(runtime.NumCPU()), "cpus")
		})
	}
}
