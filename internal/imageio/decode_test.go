package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"cyclegan/internal/imageio/imagetest"
)

// maxDiff returns the largest per-channel RGB difference between two images
// of the same size, or -1 if the sizes differ.
func maxDiff(a, b *image.NRGBA) int {
	if a.Rect.Dx() != b.Rect.Dx() || a.Rect.Dy() != b.Rect.Dy() {
		return -1
	}
	d := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			p := a.Pix[a.PixOffset(a.Rect.Min.X+x, a.Rect.Min.Y+y):]
			q := b.Pix[b.PixOffset(b.Rect.Min.X+x, b.Rect.Min.Y+y):]
			for c := 0; c < 3; c++ {
				d = max(d, abs(int(p[c])-int(q[c])))
			}
		}
	}
	return d
}

// meanDiff returns the mean absolute RGB difference of same-size images.
func meanDiff(a, b *image.NRGBA) float64 {
	sum := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			p := a.Pix[a.PixOffset(x, y):]
			q := b.Pix[b.PixOffset(x, y):]
			for c := 0; c < 3; c++ {
				sum += abs(int(p[c]) - int(q[c]))
			}
		}
	}
	return float64(sum) / float64(3*a.Rect.Dx()*a.Rect.Dy())
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// requireOpaqueAtOrigin checks the package's output invariants.
func requireOpaqueAtOrigin(t *testing.T, img *image.NRGBA) {
	t.Helper()
	if img.Rect.Min != (image.Point{}) {
		t.Fatalf("rect %v does not start at the origin", img.Rect)
	}
	if len(img.Pix) != 4*img.Rect.Dx()*img.Rect.Dy() || img.Stride != 4*img.Rect.Dx() {
		t.Fatalf("pix length %d / stride %d do not match %v", len(img.Pix), img.Stride, img.Rect)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] != 255 {
			t.Fatalf("alpha at byte %d is %d, want 255", i, img.Pix[i])
		}
	}
}

func rgbAt(img *image.NRGBA, x, y int) [3]int {
	p := img.Pix[img.PixOffset(x, y):]
	return [3]int{int(p[0]), int(p[1]), int(p[2])}
}

func near(got, want [3]int, tol int) bool {
	for c := range got {
		if abs(got[c]-want[c]) > tol {
			return false
		}
	}
	return true
}

func TestDecodeRoundTripsEveryFormat(t *testing.T) {
	src := pattern(37, 23) // odd sizes catch stride and subsampling mistakes
	paletted := image.NewPaletted(src.Rect, palette.Plan9)
	for i := range paletted.Pix {
		paletted.Pix[i] = uint8(i * 31 % 256)
	}
	twoTone := blocks(4, 3, 5,
		color.NRGBA{255, 0, 255, 255}, color.NRGBA{0, 0, 0, 255}, color.NRGBA{255, 200, 0, 255}, color.NRGBA{0, 200, 255, 255},
		color.NRGBA{0, 200, 0, 255}, color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}, color.NRGBA{255, 200, 255, 255})

	encode := func(t *testing.T, f func(io.Writer) error) []byte {
		var buf bytes.Buffer
		if err := f(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name    string
		format  string
		data    func(t *testing.T) []byte
		want    *image.NRGBA
		maxDiff int // 0 for lossless
	}{
		{"png", "png", func(t *testing.T) []byte { return encodePNG(t, src) }, src, 0},
		{"jpeg", "jpeg", func(t *testing.T) []byte { return encodeJPEG(t, src, 100) }, src, 20},
		{"gif", "gif", func(t *testing.T) []byte {
			return encode(t, func(w io.Writer) error { return gif.Encode(w, paletted, nil) })
		}, Normalize(paletted), 0},
		{"bmp", "bmp", func(t *testing.T) []byte {
			return encode(t, func(w io.Writer) error { return bmp.Encode(w, src) })
		}, src, 0},
		{"tiff", "tiff", func(t *testing.T) []byte {
			return encode(t, func(w io.Writer) error { return tiff.Encode(w, src, nil) })
		}, src, 0},
		{"tiff deflate", "tiff", func(t *testing.T) []byte {
			return encode(t, func(w io.Writer) error { return tiff.Encode(w, src, &tiff.Options{Compression: tiff.Deflate}) })
		}, src, 0},
		{"webp lossless", "webp", func(t *testing.T) []byte { return losslessWebP(t, twoTone) }, twoTone, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, info, err := DecodeWith(bytes.NewReader(tt.data(t)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != tt.format {
				t.Errorf("format %q, want %q", info.Format, tt.format)
			}
			requireOpaqueAtOrigin(t, got)
			if d := maxDiff(got, tt.want); d < 0 || d > tt.maxDiff {
				t.Errorf("max channel difference %d (size %v, want %v), allowed %d", d, got.Rect, tt.want.Rect, tt.maxDiff)
			}
		})
	}
}

func TestDecodeConvertsToOpaqueRGB(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 4, 2))
	gray16 := image.NewGray16(image.Rect(0, 0, 4, 2))
	rgba64 := image.NewRGBA64(image.Rect(0, 0, 4, 2))
	for i := 0; i < 8; i++ {
		gray.Pix[i] = uint8(i * 30)
		gray16.SetGray16(i%4, i/4, color.Gray16{Y: uint16(i * 30 * 257)})
		rgba64.SetRGBA64(i%4, i/4, color.RGBA64{R: 0xffff, G: uint16(i * 30 * 257), B: 0x1234, A: 0xffff})
	}
	translucent := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	translucent.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 0})    // fully transparent red
	translucent.SetNRGBA(1, 0, color.NRGBA{255, 0, 0, 128})  // half red
	translucent.SetNRGBA(2, 0, color.NRGBA{10, 20, 30, 255}) // opaque
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, 2, 1))
	nrgba64.SetNRGBA64(0, 0, color.NRGBA64{0, 0, 0, 0x8080})      // half black
	nrgba64.SetNRGBA64(1, 0, color.NRGBA64{0, 0xffff, 0, 0xffff}) // green
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{0, 0, 255, 255}, color.NRGBA{0, 0, 0, 0}})
	pal.Pix[1] = 1
	animated := &gif.GIF{
		Image: []*image.Paletted{
			image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.RGBA{200, 0, 0, 255}}),
			image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.RGBA{0, 200, 0, 255}}),
		},
		Delay: []int{10, 10},
	}
	offsetFrame := &gif.GIF{
		Image:  []*image.Paletted{image.NewPaletted(image.Rect(2, 1, 5, 3), color.Palette{color.RGBA{0, 0, 200, 255}})},
		Delay:  []int{0},
		Config: image.Config{Width: 8, Height: 8, ColorModel: color.Palette{color.RGBA{0, 0, 200, 255}}},
	}
	gifBytes := func(t *testing.T, g *gif.GIF) []byte {
		var buf bytes.Buffer
		if err := gif.EncodeAll(&buf, g); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cyanYCC := func() [4]uint8 { // YCCK for stored RGB (0,255,255) and K byte 255 -> red
		y, cb, cr := color.RGBToYCbCr(0, 255, 255)
		return [4]uint8{y, cb, cr, 255}
	}()

	type px struct {
		x, y int
		rgb  [3]int
	}
	tests := []struct {
		name   string
		data   func(t *testing.T) []byte
		format string
		w, h   int
		tol    int
		want   []px
	}{
		{"8-bit grayscale png", func(t *testing.T) []byte { return encodePNG(t, gray) }, "png", 4, 2, 0,
			[]px{{0, 0, [3]int{0, 0, 0}}, {3, 1, [3]int{210, 210, 210}}}},
		{"16-bit grayscale png", func(t *testing.T) []byte { return encodePNG(t, gray16) }, "png", 4, 2, 0,
			[]px{{1, 0, [3]int{30, 30, 30}}, {3, 1, [3]int{210, 210, 210}}}},
		{"16-bit rgb png", func(t *testing.T) []byte { return encodePNG(t, rgba64) }, "png", 4, 2, 0,
			[]px{{2, 1, [3]int{255, 180, 0x12}}}},
		{"rgba png composited over white", func(t *testing.T) []byte { return encodePNG(t, translucent) }, "png", 3, 1, 0,
			[]px{{0, 0, [3]int{255, 255, 255}}, {1, 0, [3]int{255, 127, 127}}, {2, 0, [3]int{10, 20, 30}}}},
		{"16-bit rgba png composited over white", func(t *testing.T) []byte { return encodePNG(t, nrgba64) }, "png", 2, 1, 0,
			[]px{{0, 0, [3]int{127, 127, 127}}, {1, 0, [3]int{0, 255, 0}}}},
		{"webp lossless with alpha composited over white", func(t *testing.T) []byte {
			return losslessWebP(t, blocks(2, 1, 1, color.NRGBA{0, 0, 0, 0}, color.NRGBA{0, 0, 0, 255}))
		}, "webp", 2, 1, 0,
			[]px{{0, 0, [3]int{255, 255, 255}}, {1, 0, [3]int{0, 0, 0}}}},
		{"paletted png with transparent entry", func(t *testing.T) []byte { return encodePNG(t, pal) }, "png", 2, 1, 0,
			[]px{{0, 0, [3]int{0, 0, 255}}, {1, 0, [3]int{255, 255, 255}}}},
		{"grayscale jpeg", func(t *testing.T) []byte { return encodeJPEG(t, gray, 100) }, "jpeg", 4, 2, 6,
			[]px{{3, 1, [3]int{210, 210, 210}}}},
		{"animated gif yields first frame", func(t *testing.T) []byte { return gifBytes(t, animated) }, "gif", 3, 2, 0,
			[]px{{0, 0, [3]int{200, 0, 0}}, {2, 1, [3]int{200, 0, 0}}}},
		{"gif first frame offset inside the screen", func(t *testing.T) []byte { return gifBytes(t, offsetFrame) }, "gif", 3, 2, 0,
			[]px{{0, 0, [3]int{0, 0, 200}}}},
		{"cmyk jpeg (Adobe transform 0)", func(t *testing.T) []byte {
			// Stored samples are Adobe-inverted: stored = 255 - ink.
			return imagetest.FourComponentJPEG([][4]uint8{
				{255, 0, 0, 255},     // C=0 M=255 Y=255 K=0: red
				{0, 255, 255, 255},   // C=255: cyan
				{255, 255, 255, 127}, // K=128: mid grey
			}, 0)
		}, "jpeg", 24, 8, 2,
			[]px{{4, 4, [3]int{255, 0, 0}}, {12, 4, [3]int{0, 255, 255}}, {20, 4, [3]int{127, 127, 127}}}},
		{"ycck jpeg (Adobe transform 2)", func(t *testing.T) []byte {
			return imagetest.FourComponentJPEG([][4]uint8{cyanYCC}, 2)
		}, "jpeg", 8, 8, 3,
			[]px{{4, 4, [3]int{255, 0, 0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, info, err := DecodeWith(bytes.NewReader(tt.data(t)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != tt.format {
				t.Errorf("format %q, want %q", info.Format, tt.format)
			}
			requireOpaqueAtOrigin(t, got)
			if got.Rect.Dx() != tt.w || got.Rect.Dy() != tt.h {
				t.Fatalf("size %v, want %dx%d", got.Rect.Size(), tt.w, tt.h)
			}
			for _, p := range tt.want {
				if g := rgbAt(got, p.x, p.y); !near(g, p.rgb, tt.tol) {
					t.Errorf("pixel (%d,%d) = %v, want %v ±%d", p.x, p.y, g, p.rgb, tt.tol)
				}
			}
		})
	}
}

func TestNormalizeConvertsInMemoryColorModels(t *testing.T) {
	r := image.Rect(3, 5, 5, 6) // not at the origin
	cmyk := image.NewCMYK(r)
	cmyk.SetCMYK(3, 5, color.CMYK{C: 0, M: 255, Y: 255, K: 0})
	cmyk.SetCMYK(4, 5, color.CMYK{C: 0, M: 0, Y: 0, K: 128})
	ycc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = 200
	}
	ycc.Cb[0], ycc.Cr[0] = 128, 128
	rgba := image.NewRGBA(r)
	rgba.SetRGBA(3, 5, color.RGBA{0, 0, 0, 0})     // transparent
	rgba.SetRGBA(4, 5, color.RGBA{100, 0, 0, 128}) // premultiplied half red
	nycca := image.NewNYCbCrA(image.Rect(0, 0, 1, 1), image.YCbCrSubsampleRatio444)
	nycca.Y[0], nycca.Cb[0], nycca.Cr[0], nycca.A[0] = 0, 128, 128, 0 // transparent black

	tests := []struct {
		name string
		src  image.Image
		want [][3]int // row-major pixels of the result
	}{
		{"cmyk", cmyk, [][3]int{{255, 0, 0}, {127, 127, 127}}},
		{"ycbcr 4:2:0", ycc, [][3]int{{200, 200, 200}, {200, 200, 200}, {200, 200, 200}, {200, 200, 200}}},
		{"premultiplied rgba over white", rgba, [][3]int{{255, 255, 255}, {227, 127, 127}}},
		{"nycbcra over white", nycca, [][3]int{{255, 255, 255}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(tt.src)
			requireOpaqueAtOrigin(t, got)
			w := got.Rect.Dx()
			if w*got.Rect.Dy() != len(tt.want) {
				t.Fatalf("size %v, want %d pixels", got.Rect, len(tt.want))
			}
			for i, want := range tt.want {
				if g := rgbAt(got, i%w, i/w); !near(g, want, 1) {
					t.Errorf("pixel %d = %v, want %v", i, g, want)
				}
			}
		})
	}
}

func TestDecodeErrorKinds(t *testing.T) {
	jpg := encodeJPEG(t, pattern(64, 64), 90)
	pngData := encodePNG(t, pattern(64, 64))
	zeroWidthGIF := func() []byte {
		var buf bytes.Buffer
		g := &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 1, 1), palette.Plan9)}, Delay: []int{0}}
		if err := gif.EncodeAll(&buf, g); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		b[6], b[7] = 0, 0 // logical screen width = 0
		return b
	}()
	tests := []struct {
		name     string
		data     []byte
		max      int
		want     error
		contains string
	}{
		{"zero bytes", nil, 0, ErrNotImage, ""},
		{"text", []byte("this is not a picture, just words\n"), 0, ErrNotImage, ""},
		{"html page", []byte("<!DOCTYPE html><html><body>404</body></html>"), 0, ErrNotImage, ""},
		{"jpeg magic only", jpg[:2], 0, ErrCorrupt, "jpeg"},
		{"truncated jpeg header", jpg[:40], 0, ErrCorrupt, "jpeg"},
		{"truncated jpeg data", jpg[:len(jpg)/2], 0, ErrCorrupt, "jpeg"},
		{"truncated png data", pngData[:len(pngData)/2], 0, ErrCorrupt, "png"},
		{"png bad crc", func() []byte {
			b := append([]byte{}, pngData...)
			b[20] ^= 0xff // inside IHDR
			return b
		}(), 0, ErrCorrupt, "png"},
		{"zero-width png", imagetest.PNGHeader(0, 10), 0, ErrCorrupt, "png"},
		{"zero-width gif", zeroWidthGIF, 0, ErrCorrupt, "zero size"},
		{"png header claims 100000x100000", imagetest.PNGHeader(100000, 100000), 0, ErrTooLarge, "100000x100000"},
		{"over a caller limit", pngData, 64*64 - 1, ErrTooLarge, "64x64"},
		{"12-bit jpeg", func() []byte {
			b := append([]byte{}, jpg...)
			i := bytes.Index(b, []byte{0xFF, 0xC0})
			b[i+4] = 12 // SOF precision
			return b
		}(), 0, ErrUnsupported, "precision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(tt.data), tt.max)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if img != nil {
				t.Error("non-nil image with an error")
			}
			for _, other := range []error{ErrNotImage, ErrCorrupt, ErrUnsupported, ErrTooLarge} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not mention %q", err, tt.contains)
			}
		})
	}
}

func TestDecodeAcceptsExactlyMaxPixels(t *testing.T) {
	img, err := Decode(bytes.NewReader(encodePNG(t, pattern(64, 64))), 64*64)
	if err != nil || img.Rect.Dx() != 64 {
		t.Fatalf("Decode at the bound: %v", err)
	}
}

func TestDecodeRefusesBombsBeforeAllocating(t *testing.T) {
	jpegBomb := func() []byte {
		b := encodeJPEG(t, pattern(16, 16), 90)
		i := bytes.Index(b, []byte{0xFF, 0xC0})
		binary.BigEndian.PutUint16(b[i+5:], 65500) // height
		binary.BigEndian.PutUint16(b[i+7:], 65500) // width
		return b
	}()
	gifBomb := append([]byte("GIF89a\xff\xff\xff\xff"), 0, 0, 0)
	bmpBomb := func() []byte {
		b := []byte("BM")
		b = binary.LittleEndian.AppendUint32(b, 54)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, 54)
		b = binary.LittleEndian.AppendUint32(b, 40) // BITMAPINFOHEADER
		b = binary.LittleEndian.AppendUint32(b, 100000)
		b = binary.LittleEndian.AppendUint32(b, 100000)
		b = binary.LittleEndian.AppendUint16(b, 1)  // planes
		b = binary.LittleEndian.AppendUint16(b, 24) // bits per pixel
		return append(b, make([]byte, 24)...)
	}()
	webpBomb := func() []byte {
		var bw bitWriterLSB
		bw.write(0x2f, 8)
		bw.write(16383, 14)
		bw.write(16383, 14)
		bw.write(0, 4)
		data := bw.bytes()
		out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+8+len(data)+1))...)
		out = append(out, "WEBPVP8L"...)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
		return append(append(out, data...), 0)
	}()
	tiffBadOffset := []byte("II*\x00\xf0\xff\xff\xff")

	tests := []struct {
		name     string
		data     []byte
		want     error
		contains string
	}{
		{"png 100000x100000", imagetest.PNGHeader(100000, 100000), ErrTooLarge, "100000x100000"},
		{"jpeg 65500x65500", jpegBomb, ErrTooLarge, "65500x65500"},
		{"gif 65535x65535", gifBomb, ErrTooLarge, "65535x65535"},
		{"bmp 100000x100000", bmpBomb, ErrTooLarge, "100000x100000"},
		{"webp 16384x16384", webpBomb, ErrTooLarge, "16384x16384"},
		{"tiff ifd offset near 4 GiB", tiffBadOffset, ErrCorrupt, "tiff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Decode(bytes.NewReader(tt.data), 0)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("error %v, want %v mentioning %q", err, tt.want, tt.contains)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("allocated %d bytes refusing a header-only bomb", got)
			}
		})
	}
}

func TestDecodeFileNamesPathAndSniffsContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		want error // nil: decodes
	}{
		{"text named .jpg", write("notes.jpg", []byte("hello")), ErrNotImage},
		{"empty file named .png", write("empty.png", nil), ErrNotImage},
		{"png named .jpg", write("really-a-png.jpg", encodePNG(t, pattern(5, 5))), nil},
		{"jpeg named .txt", write("photo.txt", encodeJPEG(t, pattern(5, 5), 90)), nil},
		{"missing file", filepath.Join(dir, "missing.png"), os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := DecodeFile(tt.path, 0)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				requireOpaqueAtOrigin(t, img)
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name %s", err, tt.path)
			}
		})
	}
}

// failingReader returns data, then a non-EOF error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestDecodeReportsReadErrorsAsIO(t *testing.T) {
	diskErr := errors.New("disk on fire")
	jpg := encodeJPEG(t, pattern(64, 64), 90)
	_, err := Decode(&failingReader{data: jpg[:len(jpg)/2], err: diskErr}, 0)
	if !errors.Is(err, diskErr) {
		t.Fatalf("error %v, want the reader's error", err)
	}
	for _, s := range []error{ErrNotImage, ErrCorrupt, ErrUnsupported, ErrTooLarge} {
		if errors.Is(err, s) {
			t.Errorf("I/O error %v classified as %v", err, s)
		}
	}
}

// A decoder that panics must not take the caller down.
func init() {
	image.RegisterFormat("panicky", "PANIC!", func(io.Reader) (image.Image, error) {
		panic("boom")
	}, func(io.Reader) (image.Config, error) {
		return image.Config{Width: 1, Height: 1, ColorModel: color.RGBAModel}, nil
	})
}

func TestDecodeRecoversDecoderPanic(t *testing.T) {
	_, err := Decode(strings.NewReader("PANIC!"), 0)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error %v, want ErrCorrupt mentioning the panic", err)
	}
}

func TestJPEGOrientationParsesTag(t *testing.T) {
	jpg := encodeJPEG(t, pattern(8, 8), 90)
	for o := uint16(1); o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			if got := JPEGOrientation(withEXIF(jpg, o, bo)); got != int(o) {
				t.Errorf("orientation %d (%v): got %d", o, bo, got)
			}
		}
	}
	exif6 := withEXIF(jpg, 6, binary.BigEndian)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"no exif", jpg, 1},
		{"out of range value", withEXIF(jpg, 9, binary.LittleEndian), 1},
		{"zero value", withEXIF(jpg, 0, binary.LittleEndian), 1},
		{"not a jpeg", []byte("II*\x00"), 1},
		{"empty", nil, 1},
		{"header only", exif6[:60], 6}, // tag lies within the first 60 bytes
		{"segment cut short", exif6[:30], 1},
		{"bad tiff magic", bytes.Replace(exif6, []byte("MM\x00\x2a"), []byte("MM\x00\x2b"), 1), 1},
		{"ifd offset past the end", bytes.Replace(exif6, []byte("MM\x00\x2a\x00\x00\x00\x08"), []byte("MM\x00\x2a\x7f\xff\xff\xff"), 1), 1},
		{"exif after start of scan is ignored", func() []byte {
			sos := bytes.Index(jpg, []byte{0xFF, 0xDA})
			app1 := withEXIF([]byte{0xFF, 0xD8}, 6, binary.LittleEndian)[2:]
			out := append([]byte{}, jpg[:sos+2]...)
			out = append(out, app1...)
			return append(out, jpg[sos+2:]...)
		}(), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JPEGOrientation(tt.data); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestDecodeAppliesEXIFOrientation decodes a 3x2-block JPEG tagged with each
// orientation and checks where the stored top-left and top-right blocks are
// displayed; those two corners pin down all eight transforms.
func TestDecodeAppliesEXIFOrientation(t *testing.T) {
	var (
		red     = color.NRGBA{255, 0, 0, 255}
		green   = color.NRGBA{0, 255, 0, 255}
		blue    = color.NRGBA{0, 0, 255, 255}
		yellow  = color.NRGBA{255, 255, 0, 255}
		magenta = color.NRGBA{255, 0, 255, 255}
		cyan    = color.NRGBA{0, 255, 255, 255}
	)
	// Stored 48x32: top row red, green, blue; bottom row yellow, magenta, cyan.
	stored := blocks(3, 16, 16, red, green, blue, yellow, magenta, cyan)
	jpg := encodeJPEG(t, stored, 95)

	const (
		TL = iota
		TR
		BL
		BR
	)
	tests := []struct {
		orientation       int
		topLeft, topRight int // displayed corner of the stored corner block
	}{
		{1, TL, TR},
		{2, TR, TL},
		{3, BR, BL},
		{4, BL, BR},
		{5, TL, BL},
		{6, TR, BR},
		{7, BR, TR},
		{8, BL, TL},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("orientation ", tt.orientation), func(t *testing.T) {
			data := withEXIF(jpg, uint16(tt.orientation), binary.LittleEndian)
			img, info, err := DecodeWith(bytes.NewReader(data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != tt.orientation {
				t.Errorf("info.Orientation = %d", info.Orientation)
			}
			w, h := 48, 32
			if tt.orientation >= 5 {
				w, h = 32, 48
			}
			if img.Rect.Dx() != w || img.Rect.Dy() != h {
				t.Fatalf("size %v, want %dx%d", img.Rect.Size(), w, h)
			}
			corner := func(c int) [3]int { // centre of the 16x16 block in that corner
				x, y := 8, 8
				if c == TR || c == BR {
					x = w - 8
				}
				if c == BL || c == BR {
					y = h - 8
				}
				return rgbAt(img, x, y)
			}
			if got := corner(tt.topLeft); !near(got, [3]int{255, 0, 0}, 40) {
				t.Errorf("stored top-left (red) not at corner %d: found %v", tt.topLeft, got)
			}
			if got := corner(tt.topRight); !near(got, [3]int{0, 0, 255}, 40) {
				t.Errorf("stored top-right (blue) not at corner %d: found %v", tt.topRight, got)
			}
		})
	}
	t.Run("ignored on request", func(t *testing.T) {
		img, info, err := DecodeWith(bytes.NewReader(withEXIF(jpg, 6, binary.LittleEndian)), Options{IgnoreOrientation: true})
		if err != nil {
			t.Fatal(err)
		}
		if img.Rect.Dx() != 48 || info.Orientation != 1 {
			t.Errorf("size %v orientation %d; want stored layout", img.Rect.Size(), info.Orientation)
		}
	})
}

// TestOrientMatchesDefinitions compares Orient pixel-for-pixel with a direct
// transcription of the EXIF definitions on a non-square image.
func TestOrientMatchesDefinitions(t *testing.T) {
	src := pattern(5, 3)
	w, h := 5, 3
	// For each orientation: the stored pixel shown at display position (x, y).
	defs := map[int]func(x, y int) (int, int){
		1: func(x, y int) (int, int) { return x, y },
		2: func(x, y int) (int, int) { return w - 1 - x, y },
		3: func(x, y int) (int, int) { return w - 1 - x, h - 1 - y },
		4: func(x, y int) (int, int) { return x, h - 1 - y },
		5: func(x, y int) (int, int) { return y, x },
		6: func(x, y int) (int, int) { return y, h - 1 - x },
		7: func(x, y int) (int, int) { return w - 1 - y, h - 1 - x },
		8: func(x, y int) (int, int) { return w - 1 - y, x },
	}
	for o := 1; o <= 8; o++ {
		got := Orient(src, o)
		dw, dh := w, h
		if o >= 5 {
			dw, dh = h, w
		}
		if got.Rect.Dx() != dw || got.Rect.Dy() != dh {
			t.Fatalf("orientation %d: size %v", o, got.Rect.Size())
		}
		for y := 0; y < dh; y++ {
			for x := 0; x < dw; x++ {
				sx, sy := defs[o](x, y)
				if rgbAt(got, x, y) != rgbAt(src, sx, sy) {
					t.Fatalf("orientation %d: pixel (%d,%d) should be stored (%d,%d)", o, x, y, sx, sy)
				}
			}
		}
	}
}

func TestEncodeRoundTrips(t *testing.T) {
	src := pattern(97, 65)
	dir := t.TempDir()
	tests := []struct {
		name    string
		file    string
		quality int
		tol     float64 // mean absolute difference allowed
		wantErr string
	}{
		{"png", "a.png", 0, 0, ""},
		{"jpeg default quality", "b.JPG", 0, 3, ""},
		{"jpeg low quality", "c.jpeg", 10, 20, ""},
		{"bad quality", "d.jpg", 101, 0, "quality"},
		{"unknown extension", "e.gif", 0, 0, "unsupported extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			err := WriteFile(path, src, tt.quality)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("file left behind after failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeFile(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if d := meanDiff(got, src); d > tt.tol {
				t.Errorf("mean difference %.2f > %.2f", d, tt.tol)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	var hi, lo bytes.Buffer
	if err := EncodeJPEG(&hi, src, 95); err != nil {
		t.Fatal(err)
	}
	if err := EncodeJPEG(&lo, src, 5); err != nil {
		t.Fatal(err)
	}
	if lo.Len() >= hi.Len() {
		t.Errorf("quality has no effect: q5 %d bytes, q95 %d bytes", lo.Len(), hi.Len())
	}
	var p bytes.Buffer
	if err := EncodePNG(&p, src); err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&p)
	if err != nil || cfg.ColorModel != color.RGBAModel {
		t.Errorf("opaque image should be written as 8-bit RGB PNG: %v %v", cfg.ColorModel, err)
	}
}
