package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

// idColor is the colour of fixture image number id: its red channel encodes
// id (spacing 5 survives resampling), the rest is arbitrary but fixed.
func idColor(id int) color.NRGBA {
	return color.NRGBA{uint8(2 + 5*id), uint8(255 - 3*id), uint8(id * 40), 255}
}

// idOf recovers the fixture id from a value of the red channel in [-1, 1].
func idOf(red float32) int {
	v := (float64(red) + 1) * 127.5
	return int((v - 2 + 2.5) / 5)
}

func flat(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// gradient is an image whose every pixel differs and whose left and right
// halves differ, so crops and flips are visible.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*255/(w-1)), uint8(y*255/(h-1)), 128, 255
		}
	}
	return img
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// makeDomains writes nA and nB flat PNGs of w x h under root/woman and
// root/man and scans them. Image i of either domain (file name(i)) has colour
// idColor(i), so idOf recovers which file a batch image came from; the
// domain is known from whether it is in Batch.A or Batch.B.
func makeDomains(t testing.TB, root string, nA, nB, w, h int) *Files {
	t.Helper()
	for i := 0; i < nA; i++ {
		writeFile(t, filepath.Join(root, "woman", name(i)), pngBytes(t, flat(w, h, idColor(i))))
	}
	for i := 0; i < nB; i++ {
		writeFile(t, filepath.Join(root, "man", name(i)), pngBytes(t, flat(w, h, idColor(i))))
	}
	f, err := Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// name returns a file name that sorts in numeric order.
func name(i int) string {
	return string([]byte{'i', byte('0' + i/10), byte('0' + i%10)}) + ".png"
}

// quietLog returns a logger that records entries instead of printing them.
func quietLog() (*logrus.Logger, *logtest.Hook) {
	return logtest.NewNullLogger()
}
