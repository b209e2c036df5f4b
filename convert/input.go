package main

import (
	"errors"
	"fmt"
	"image"
	"io"
	"math"

	"cyclegan/internal/imageio"
	"cyclegan/internal/serving"
)

// Limits bound what the decode path accepts; the CLI and the server share
// them.
type Limits struct {
	// MaxPixels bounds the decoded width*height. It is checked against the
	// image header, before the pixels are allocated, so a decompression
	// bomb costs nothing.
	MaxPixels int
	// MaxModelPixels bounds width*height of what is fed to the model (after
	// -size). The generator's activations take about 1 KiB per pixel of
	// input, so this is what keeps a large photo from exhausting memory.
	MaxModelPixels int
	// Size, when positive, resizes every image so that its short side is
	// Size pixels (keeping the aspect ratio) before conversion.
	Size int
}

// Defaults of the limits (flags -max-pixels and -max-model-pixels).
const (
	DefaultMaxPixels      = 50_000_000 // a 8660x5773 photo; 200 MB decoded
	DefaultMaxModelPixels = 4 << 20    // 2048x2048
)

// ErrTooSmall means an image is smaller than serving.MinSide on a side.
var ErrTooSmall = errors.New("image too small")

// decodeInput reads one image from r and returns what the model is fed: an
// opaque NRGBA with EXIF orientation applied, resized when lim.Size is set,
// and checked against the limits. Errors wrap imageio's sentinels
// (ErrNotImage, ErrCorrupt, ErrUnsupported, ErrTooLarge) or ErrTooSmall, so
// callers can tell a bad image from a failing reader.
func decodeInput(r io.Reader, lim Limits) (*image.NRGBA, error) {
	img, _, err := imageio.DecodeWith(r, imageio.Options{MaxPixels: lim.MaxPixels})
	if err == imageio.ErrNotImage { // bare: say what would have been an image
		return nil, fmt.Errorf("%w: expected JPEG, PNG, GIF, BMP, TIFF or WebP", err)
	}
	if err != nil {
		return nil, err
	}
	if lim.Size > 0 {
		// Checked before resizing, so an extreme aspect ratio cannot make
		// the resize itself allocate too much.
		w, h := shortSideTo(img.Rect.Dx(), img.Rect.Dy(), lim.Size)
		if err := checkModelSize(w, h, lim); err != nil {
			return nil, err
		}
		if w != img.Rect.Dx() || h != img.Rect.Dy() {
			img = imageio.Resize(img, w, h)
		}
	}
	if err := checkModelSize(img.Rect.Dx(), img.Rect.Dy(), lim); err != nil {
		return nil, err
	}
	return img, nil
}

// checkModelSize refuses sizes the model cannot or should not be fed.
func checkModelSize(w, h int, lim Limits) error {
	if w < serving.MinSide || h < serving.MinSide {
		return fmt.Errorf("%w: %dx%d, the model needs at least %dx%d (-size enlarges small images)", ErrTooSmall, w, h, serving.MinSide, serving.MinSide)
	}
	if n := int64(w) * int64(h); lim.MaxModelPixels > 0 && n > int64(lim.MaxModelPixels) {
		how := "-size makes it smaller"
		if lim.Size > 0 {
			how = fmt.Sprintf("after -size %d; a smaller -size helps", lim.Size)
		}
		return fmt.Errorf("%w: %dx%d = %d pixels is more than the model is fed at once (limit %d, -max-model-pixels; %s)",
			imageio.ErrTooLarge, w, h, n, lim.MaxModelPixels, how)
	}
	return nil
}

// shortSideTo returns w x h scaled so that the shorter side is n, rounding
// the other side and keeping it at least 1.
func shortSideTo(w, h, n int) (int, int) {
	if w <= h {
		return n, max(1, int(math.Round(float64(h)*float64(n)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(n)/float64(h)))), n
}

// badImage reports whether err says the image itself is unusable (as
// opposed to a failing disk or network).
func badImage(err error) bool {
	for _, s := range []error{imageio.ErrNotImage, imageio.ErrCorrupt, imageio.ErrUnsupported, imageio.ErrTooLarge, ErrTooSmall} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
