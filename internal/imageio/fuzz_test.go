package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"cyclegan/internal/imageio/imagetest"
)

// fuzzMaxPixels keeps the fuzzer away from legitimately huge allocations while
// still letting small real images through.
const fuzzMaxPixels = 1 << 16

// FuzzDecode feeds arbitrary bytes to the decode path. It must never panic,
// must classify every bad input with one of the sentinel errors, and must
// never return an image over the pixel bound or one that breaks the output
// invariants. Seeds live in testdata/fuzz/FuzzDecode and below.
func FuzzDecode(f *testing.F) {
	small := pattern(6, 4)
	f.Add(encodePNG(f, small))
	f.Add(encodeJPEG(f, small, 80))
	f.Add(withEXIF(encodeJPEG(f, small, 80), 6, binary.BigEndian))
	f.Add(losslessWebP(f, blocks(2, 2, 2, rgb(255, 0, 0), rgb(0, 0, 255))))
	f.Add(imagetest.FourComponentJPEG([][4]uint8{{255, 0, 0, 255}}, 0))
	f.Add(imagetest.PNGHeader(100000, 100000))
	f.Add([]byte("not an image"))
	f.Add([]byte{})
	var buf bytes.Buffer
	pal := image.NewPaletted(small.Rect, color.Palette{color.Black, color.White, color.Transparent})
	if err := gif.Encode(&buf, pal, nil); err == nil {
		f.Add(append([]byte{}, buf.Bytes()...))
	}
	buf.Reset()
	if err := bmp.Encode(&buf, small); err == nil {
		f.Add(append([]byte{}, buf.Bytes()...))
	}
	buf.Reset()
	if err := tiff.Encode(&buf, small, &tiff.Options{Compression: tiff.Deflate, Predictor: true}); err == nil {
		f.Add(append([]byte{}, buf.Bytes()...))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := DecodeWith(bytes.NewReader(data), Options{MaxPixels: fuzzMaxPixels})
		if err != nil {
			if img != nil {
				t.Fatal("image returned with an error")
			}
			kinds := 0
			for _, s := range []error{ErrNotImage, ErrCorrupt, ErrUnsupported, ErrTooLarge} {
				if errors.Is(err, s) {
					kinds++
				}
			}
			if kinds != 1 {
				t.Fatalf("error %q matches %d sentinel kinds, want exactly 1", err, kinds)
			}
			return
		}
		w, h := img.Rect.Dx(), img.Rect.Dy()
		if w <= 0 || h <= 0 || w*h > fuzzMaxPixels {
			t.Fatalf("decoded %dx%d, bound %d", w, h, fuzzMaxPixels)
		}
		if img.Rect.Min != (image.Point{}) || len(img.Pix) != 4*w*h || img.Stride != 4*w {
			t.Fatalf("bad layout: rect %v stride %d len %d", img.Rect, img.Stride, len(img.Pix))
		}
		for i := 3; i < len(img.Pix); i += 4 {
			if img.Pix[i] != 255 {
				t.Fatalf("alpha %d at %d", img.Pix[i], i)
			}
		}
		if info.Orientation < 1 || info.Orientation > 8 {
			t.Fatalf("orientation %d", info.Orientation)
		}
		// The tensor path must accept whatever Decode produced.
		if err := ToFloat(make([]float32, 3*w*h), img); err != nil {
			t.Fatal(err)
		}
	})
}
