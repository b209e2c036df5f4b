package main

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badDataRoot copies a few good faces into woman/ and man/ and adds files
// of every awkward kind: unreadable ones (to be skipped, with a warning
// each) and unusual but valid ones (to be converted).
func badDataRoot(t *testing.T) (root string, unreadable []string) {
	root = t.TempDir()
	src := tinyData(t)
	for _, d := range []string{"woman", "man"} {
		os.MkdirAll(filepath.Join(root, d, "nested"), 0o755)
		entries, _ := os.ReadDir(filepath.Join(src, d))
		for _, e := range entries[:6] {
			os.WriteFile(filepath.Join(root, d, e.Name()), fileBytes(t, filepath.Join(src, d, e.Name())), 0o644)
		}
	}
	good := fileBytes(t, filepath.Join(root, "woman", firstPNG(t, filepath.Join(root, "woman"))))
	write := func(rel string, data []byte) {
		if err := os.WriteFile(filepath.Join(root, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Unreadable.
	write("woman/zero.jpg", nil)
	write("woman/truncated.png", good[:len(good)/2])
	write("man/nested/notes.png", []byte("this is not an image"))
	unreadable = []string{"woman/zero.jpg", "woman/truncated.png", "man/nested/notes.png"}
	// Unusual but valid: grayscale, alpha, 16-bit, paletted, smaller than the crop.
	gray := image.NewGray(image.Rect(0, 0, 40, 40))
	rgba := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	deep := image.NewRGBA64(image.Rect(0, 0, 40, 40))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(i * 7)
	}
	for y := 0; y < 40; y++ {
		for x := 0; x < 40; x++ {
			deep.SetRGBA64(x, y, color.RGBA64{uint16(x * 1600), uint16(y * 1600), 30000, 65535})
		}
	}
	tiny := image.NewNRGBA(image.Rect(0, 0, 5, 7))
	for i := range tiny.Pix {
		tiny.Pix[i] = 200
	}
	write("woman/gray.png", encodePNG(t, gray))
	write("man/alpha.png", encodePNG(t, rgba))
	write("man/deep.png", encodePNG(t, deep))
	write("woman/nested/tiny.png", encodePNG(t, tiny))
	pal := image.NewPaletted(image.Rect(0, 0, 40, 40), palette.Plan9)
	var g bytes.Buffer
	gif.Encode(&g, pal, nil)
	write("man/nested/paletted.gif", g.Bytes())
	return root, unreadable
}

func firstPNG(t *testing.T, dir string) string {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".png") {
			return e.Name()
		}
	}
	t.Fatal("no png in " + dir)
	return ""
}

func encodePNG(t *testing.T, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBadDataFolderIsSkippedWithOneWarningEachAndCounted(t *testing.T) {
	root, unreadable := badDataRoot(t)
	// Enough steps to visit every file of both domains (the larger has 11).
	log := mustTrain(t, tinyArgs(root, t.TempDir(), "-max-steps", "30", "-epochs", "3")...)
	for _, f := range unreadable {
		n := 0
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, filepath.Join(root, f)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s is named %d times in the log, want one warning:\n%s", f, n, log)
		}
	}
	if !strings.Contains(log, "skipped=3") {
		t.Errorf("the log does not count 3 skipped files:\n%s", log)
	}
}
