package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// sideBySide returns the sheet of one conversion: the input on the left, the
// output on the right, on white with a small gap between them.
func sideBySide(in, out *image.NRGBA) *image.NRGBA {
	gap := max(2, in.Rect.Dx()/32)
	w := in.Rect.Dx() + gap + out.Rect.Dx()
	h := max(in.Rect.Dy(), out.Rect.Dy())
	sheet := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range sheet.Pix {
		sheet.Pix[i] = 255
	}
	draw.Draw(sheet, in.Rect, in, in.Rect.Min, draw.Src)
	draw.Draw(sheet, out.Rect.Add(image.Pt(in.Rect.Dx()+gap, 0)), out, out.Rect.Min, draw.Src)
	return sheet
}

//go:embed gallery.html
var galleryHTML string

var galleryTemplate = template.Must(template.New("gallery").Parse(galleryHTML))

// galleryEntry is one converted image on the gallery page.
type galleryEntry struct {
	Name  string // the input's relative path
	Sheet string // the sheet, relative to the page
	Image string // the output, relative to the page
}

// galleryFailure is one failed input on the gallery page.
type galleryFailure struct{ Path, Reason string }

// writeGallery writes out/index.html: every sheet of the run, in input
// order, and the inputs that failed with their reasons.
func writeGallery(out, direction, model string, sum *Summary) error {
	var entries []galleryEntry
	for _, j := range sum.done {
		if j.sheet == "" {
			continue
		}
		sheet, err1 := filepath.Rel(out, j.sheet)
		img, err2 := filepath.Rel(out, j.dst)
		if err1 != nil || err2 != nil {
			continue
		}
		entries = append(entries, galleryEntry{Name: j.rel, Sheet: filepath.ToSlash(sheet), Image: filepath.ToSlash(img)})
	}
	slices.SortFunc(entries, func(a, b galleryEntry) int { return strings.Compare(a.Name, b.Name) })
	var failures []galleryFailure
	for _, f := range sum.Failures {
		failures = append(failures, galleryFailure{Path: f.Path, Reason: f.Reason.Error()})
	}
	slices.SortFunc(failures, func(a, b galleryFailure) int { return strings.Compare(a.Path, b.Path) })
	var buf bytes.Buffer
	err := galleryTemplate.Execute(&buf, map[string]any{
		"Direction": direction,
		"Model":     model,
		"Entries":   entries,
		"Failures":  failures,
		"Date":      time.Now().Format("2006-01-02 15:04"),
	})
	if err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	path := filepath.Join(out, GalleryFile)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("gallery %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("gallery %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("gallery %s: %w", path, err)
	}
	return nil
}
