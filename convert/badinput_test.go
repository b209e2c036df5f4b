package main

import (
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cyclegan/tools/faces"

	"cyclegan/internal/imageio/imagetest"
)

func TestBadFilesAreNamedWithTheirReasonAndTheRestAreConverted(t *testing.T) {
	model := testModel(t)
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	jpg := encodeJPEG(t, face(9, faces.Woman, 48))

	// Files that cannot be converted, and why.
	bad := []struct {
		rel, reason string
		data        []byte
	}{
		{"truncated.jpg", "corrupt or truncated image", jpg[:len(jpg)*6/10]},
		{"empty.jpg", "not a recognised image format: the file is empty", nil},
		{"notes.jpg", "not a recognised image format: expected JPEG, PNG", []byte("these are my notes, not a photo\n")},
		{"bomb.png", "100000x100000 = 10000000000 pixels, limit is", imagetest.PNGBomb(100000, 100000)},
		{"sub/tiny.png", "image too small: 4x4", encodePNG(t, face(10, faces.Woman, 16).SubImage(image.Rect(0, 0, 4, 4)))},
		{"sub/big.png", "-max-model-pixels", encodePNG(t, face(11, faces.Woman, 80))},
	}
	// Files that look unusual but are images: they are converted.
	odd := []struct {
		rel  string
		data []byte
		w, h int
	}{
		{"good/a.png", encodePNG(t, face(1, faces.Woman, 48)), 48, 48},
		{"good/b.jpg", jpg, 48, 48},
		{"gray.png", encodePNG(t, gray(face(2, faces.Woman, 40))), 40, 40},
		{"rgba.png", encodePNG(t, translucent(face(3, faces.Woman, 40))), 40, 40},
		{"deep16.png", encodePNG(t, deep(face(4, faces.Woman, 40))), 40, 40},
		{"cmyk.jpg", imagetest.FourComponentJPEG([][4]uint8{{0, 255, 255, 0}, {255, 0, 255, 0}, {255, 255, 0, 0}}, 0), 24, 8},
		{"animated.gif", animatedGIF(t, 24, 16), 24, 16},
	}
	for _, f := range bad {
		writeFile(t, filepath.Join(in, f.rel), f.data)
	}
	for _, f := range odd {
		writeFile(t, filepath.Join(in, f.rel), f.data)
	}

	code, log := runConvert(t, "-dir", "woman2man", "-model", model, "-in", in, "-out", out, "-max-model-pixels", "5000", "-compare")
	if code != 1 {
		t.Errorf("exit status %d, want 1 (some files failed)", code)
	}
	if strings.Contains(log, "panic") {
		t.Errorf("the log mentions a panic:\n%s", log)
	}
	for _, f := range bad {
		line := regexp.MustCompile(`(?m)^.*file="?` + regexp.QuoteMeta(filepath.Join(in, f.rel)) + `"?.*$`).FindString(log)
		switch {
		case line == "":
			t.Errorf("%s is not named in the log", f.rel)
		case !strings.Contains(line, f.reason):
			t.Errorf("%s: the log line does not give the reason %q:\n%s", f.rel, f.reason, line)
		}
		if _, err := os.Stat(filepath.Join(out, strings.TrimSuffix(f.rel, filepath.Ext(f.rel))+".png")); err == nil {
			t.Errorf("%s failed but has an output", f.rel)
		}
	}
	for _, f := range odd {
		path := filepath.Join(out, strings.TrimSuffix(f.rel, filepath.Ext(f.rel))+".png")
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s was not converted: %v", f.rel, err)
			continue
		}
		if img := readImage(t, path); img.Rect.Dx() != f.w || img.Rect.Dy() != f.h {
			t.Errorf("%s: output is %v, want %dx%d", f.rel, img.Rect.Size(), f.w, f.h)
		}
	}
	want := "converted=7 "
	if !strings.Contains(log, want) || !strings.Contains(log, "failed=6 ") {
		t.Errorf("the summary does not say 7 converted and 6 failed:\n%s", log)
	}
	page, err := os.ReadFile(filepath.Join(out, GalleryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range bad {
		if !strings.Contains(string(page), filepath.Join(in, f.rel)) {
			t.Errorf("the gallery does not list the failed %s", f.rel)
		}
	}
}
