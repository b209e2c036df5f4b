package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"cyclegan/tools/faces"

	"cyclegan/internal/imageio/imagetest"
	"cyclegan/internal/serving"
)

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the committed seed corpus of FuzzDecodeInput")

// fuzzLimits keep the fuzzer away from legitimately large allocations while
// still letting small real images through, and make both model-size checks
// reachable.
var fuzzLimits = []Limits{
	{MaxPixels: 1 << 16, MaxModelPixels: 1 << 12},
	{MaxPixels: 1 << 16, MaxModelPixels: 1 << 12, Size: 12},
}

// fuzzSeeds are the inputs of the seed corpus, by file name: one of each
// format, the hard cases of the bad-input test, and EXIF orientation.
func fuzzSeeds(t testing.TB) map[string][]byte {
	small := face(1, faces.Woman, 16)
	jpg := encodeJPEG(t, small)
	return map[string][]byte{
		"png-face-16":          encodePNG(t, small),
		"jpeg-face-16":         jpg,
		"jpeg-truncated":       jpg[:len(jpg)/2],
		"jpeg-exif-rotate90":   withOrientation(jpg, 6),
		"jpeg-cmyk":            imagetest.FourComponentJPEG([][4]uint8{{0, 255, 255, 0}, {255, 0, 255, 0}}, 0),
		"png-bomb-100000sq":    imagetest.PNGBomb(100000, 100000),
		"png-gray-wide-40x9":   encodePNG(t, gray(imageFrom(small, 40, 9))),
		"png-rgba-translucent": encodePNG(t, translucent(small)),
		"png-16bit":            encodePNG(t, deep(small)),
		"png-tiny-4x4":         encodePNG(t, small.SubImage(image.Rect(0, 0, 4, 4))),
		"gif-animated":         animatedGIF(t, 12, 10),
		"text":                 []byte("not an image"),
		"empty":                {},
	}
}

// FuzzDecodeInput feeds arbitrary bytes to the converter's decode path (the
// one both the command line and the server use). It must never panic; every
// error must be one the server answers 400 or 413 (never a 500: the input
// was bad, the server is fine); every image must respect the limits and be
// ready for the model. Seeds are committed in testdata/fuzz/FuzzDecodeInput.
func FuzzDecodeInput(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range fuzzLimits {
			img, err := decodeInput(bytes.NewReader(data), lim)
			if err != nil {
				if img != nil {
					t.Fatal("an image returned with an error")
				}
				if !badImage(err) {
					t.Fatalf("error %q is not classified as a bad image", err)
				}
				if code, _ := statusOf(err); code != 400 && code != 413 {
					t.Fatalf("error %q would be answered %d", err, code)
				}
				continue
			}
			w, h := img.Rect.Dx(), img.Rect.Dy()
			if w < serving.MinSide || h < serving.MinSide || w*h > lim.MaxModelPixels {
				t.Fatalf("decoded %dx%d with limits %+v", w, h, lim)
			}
			if lim.Size > 0 && min(w, h) != lim.Size {
				t.Fatalf("decoded %dx%d, want the short side %d", w, h, lim.Size)
			}
			if img.Rect.Min != (image.Point{}) || img.Stride != 4*w || len(img.Pix) != 4*w*h {
				t.Fatalf("bad layout: rect %v stride %d len %d", img.Rect, img.Stride, len(img.Pix))
			}
			for i := 3; i < len(img.Pix); i += 4 {
				if img.Pix[i] != 255 {
					t.Fatalf("alpha %d at %d", img.Pix[i], i)
				}
			}
		}
	})
}

func TestFuzzSeedCorpusIsCommitted(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeInput")
	for name, data := range fuzzSeeds(t) {
		path := filepath.Join(dir, name)
		if *updateSeeds {
			writeFile(t, path, []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(data))+")\n"))
			continue
		}
		// The exact bytes may drift with the encoders of a newer Go; the
		// seed only has to be there and be a corpus entry.
		got, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(got, []byte("go test fuzz v1\n[]byte(")) {
			t.Errorf("seed %s is missing or malformed (%v): run go test ./convert -run TestFuzzSeedCorpus -update-fuzz-seeds", path, err)
		}
	}
}

// imageFrom returns img resized to w x h.
func imageFrom(img *image.NRGBA, w, h int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			out.Set(x, y, img.At(x*img.Rect.Dx()/w, y*img.Rect.Dy()/h))
		}
	}
	return out
}

// withOrientation inserts an APP1 Exif segment holding only the orientation
// tag right after the SOI marker of a JPEG.
func withOrientation(jpg []byte, orientation uint16) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08") // big-endian, IFD0 at 8
	tiff = binary.BigEndian.AppendUint16(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112) // Orientation
	tiff = binary.BigEndian.AppendUint16(tiff, 3)      // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, orientation)
	tiff = binary.BigEndian.AppendUint16(tiff, 0)
	tiff = binary.BigEndian.AppendUint32(tiff, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(2+len(payload)))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}
