// Package imageio decodes and encodes the images used by training and by the
// converter, and moves pixels between images and float32 tensors.
//
// Every decoded image is returned as an opaque 8-bit *image.NRGBA whose
// rectangle starts at the origin and whose alpha channel is 255 everywhere.
// NRGBA was chosen over a home-grown RGB type because it is what the standard
// library and golang.org/x/image/draw have fast paths for, and because with
// alpha fixed at 255 the same Pix slice is also a valid *image.RGBA (see
// AsRGBA), so resizing needs no conversion. The tensor helpers (ToFloat and
// friends) read Pix directly with a 4-byte stride, which costs nothing
// measurable against a 3-byte layout.
//
// Formats are recognised by their content, never by the file name: JPEG, PNG,
// GIF (first frame), BMP, TIFF and WebP. Grayscale, 16-bit, CMYK/YCCK,
// paletted and transparent images are all converted (see Normalize); JPEG EXIF
// orientation is applied by default.
package imageio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	// Register the decoders that image.Decode sniffs for. GIF, JPEG and PNG
	// are registered by the standard library imports in this package.
	_ "image/gif"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel bound used when a caller passes maxPixels <= 0:
// 64 Mi pixels, about 256 MiB once decoded to NRGBA.
const DefaultMaxPixels = 64 << 20

// Sentinel errors. Every error returned by the decode functions for a bad
// input wraps exactly one of them, so callers can use errors.Is to tell the
// cases apart. Errors from the underlying reader (for example a failing disk)
// wrap none of them.
var (
	// ErrNotImage means the data is not in any recognised image format
	// (empty input, text, an unsupported format).
	ErrNotImage = errors.New("not a recognised image format")
	// ErrCorrupt means the data starts like a known format but cannot be
	// decoded: truncated, malformed, or with zero width or height.
	ErrCorrupt = errors.New("corrupt or truncated image")
	// ErrUnsupported means the image is well formed but uses a feature the
	// decoder does not implement (for example 12-bit JPEG or an exotic TIFF
	// compression).
	ErrUnsupported = errors.New("unsupported image feature")
	// ErrTooLarge means the declared dimensions exceed the pixel bound. It is
	// detected from the header, before the pixel buffer is allocated.
	ErrTooLarge = errors.New("image too large")
)

// Options controls DecodeWith.
type Options struct {
	// MaxPixels bounds width*height; <= 0 means DefaultMaxPixels.
	MaxPixels int
	// IgnoreOrientation disables applying the JPEG EXIF orientation tag.
	IgnoreOrientation bool
}

// Info describes a decoded image's source.
type Info struct {
	// Format is the name the decoder registered: "jpeg", "png", "gif",
	// "bmp", "tiff" or "webp".
	Format string
	// Width and Height are the stored dimensions, before orientation.
	Width, Height int
	// Orientation is the EXIF orientation (1-8) that was applied; 1 when
	// there was none or it was ignored.
	Orientation int
}

// Decode reads one image from r and returns it as an opaque 8-bit NRGBA at the
// origin, with the JPEG EXIF orientation applied. Images whose header declares
// more than maxPixels pixels (DefaultMaxPixels if maxPixels <= 0) are refused
// with ErrTooLarge before any pixel memory is allocated.
func Decode(r io.Reader, maxPixels int) (*image.NRGBA, error) {
	img, _, err := DecodeWith(r, Options{MaxPixels: maxPixels})
	return img, err
}

// DecodeFile opens path and decodes it like Decode. Errors name the path.
func DecodeFile(path string, maxPixels int) (*image.NRGBA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	defer f.Close()
	img, _, err := DecodeWith(f, Options{MaxPixels: maxPixels})
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// DecodeWith is Decode with explicit options; it also reports what was read.
//
// The input is streamed: only the header bytes consumed while reading the
// image configuration are buffered, then replayed to the full decoder
// (TIFF, which needs random access, is read into memory whole).
// A decoder panic on malformed input is recovered and reported as ErrCorrupt.
func DecodeWith(r io.Reader, opt Options) (img *image.NRGBA, info Info, err error) {
	limit := int64(opt.MaxPixels)
	if limit <= 0 {
		limit = DefaultMaxPixels
	}
	src := &errReader{r: r}
	var head bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrCorrupt, p)
		}
	}()

	// Everything read from src is also recorded in head, so the full decoder
	// can be fed head followed by the unread rest of src.
	br := bufio.NewReaderSize(io.TeeReader(src, &head), 4096)
	decodeConfig := func() (image.Config, string, error) { return image.DecodeConfig(br) }
	decode := func() (image.Image, error) {
		m, _, err := image.Decode(io.MultiReader(bytes.NewReader(head.Bytes()), src))
		return m, err
	}
	if magic, _ := br.Peek(4); isTIFF(magic) {
		// TIFF needs random access (io.ReaderAt). Given a plain stream, as
		// image.Decode always passes, its decoder buffers the stream itself,
		// growing in 10 MB steps towards whatever offset the (possibly
		// hostile) header names. With the whole input in a bytes.Reader
		// handed straight to it, bad offsets fail at once.
		whole, err := io.ReadAll(br)
		if err != nil {
			return nil, info, fmt.Errorf("read: %w", err)
		}
		decodeConfig = func() (image.Config, string, error) {
			c, err := tiff.DecodeConfig(bytes.NewReader(whole))
			return c, "tiff", err
		}
		decode = func() (image.Image, error) { return tiff.Decode(bytes.NewReader(whole)) }
	}

	cfg, format, err := decodeConfig()
	info.Format = format
	if err != nil {
		return nil, info, classify(err, format, src)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if err := checkSize(cfg.Width, cfg.Height, limit, format); err != nil {
		return nil, info, err
	}
	orientation := 1
	if format == "jpeg" && !opt.IgnoreOrientation {
		orientation = JPEGOrientation(head.Bytes())
	}

	m, err := decode()
	if err != nil {
		return nil, info, classify(err, format, src)
	}
	b := m.Bounds()
	// Decoders should honour the header, but do not trust them to.
	if err := checkSize(b.Dx(), b.Dy(), limit, format); err != nil {
		return nil, info, err
	}
	out := Normalize(m)
	if orientation != 1 {
		out = Orient(out, orientation)
	}
	info.Orientation = orientation
	return out, info, nil
}

// isTIFF reports whether b starts with a TIFF byte-order mark and magic.
func isTIFF(b []byte) bool {
	return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
}

// checkSize refuses empty images and images over the pixel bound.
func checkSize(w, h int, limit int64, format string) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %s with zero size %dx%d", ErrCorrupt, format, w, h)
	}
	if n := int64(w) * int64(h); n > limit {
		return fmt.Errorf("%w: %s is %dx%d = %d pixels, limit is %d", ErrTooLarge, format, w, h, n, limit)
	}
	return nil
}

// classify wraps a decoder error in the matching sentinel.
func classify(err error, format string, src *errReader) error {
	if src.err != nil {
		// The reader failed (not EOF): that is an I/O problem, not bad data.
		return fmt.Errorf("read: %w", src.err)
	}
	if errors.Is(err, image.ErrFormat) {
		return ErrNotImage
	}
	var (
		jpegUnsupported jpeg.UnsupportedError
		pngUnsupported  png.UnsupportedError
		tiffUnsupported tiff.UnsupportedError
	)
	if errors.As(err, &jpegUnsupported) || errors.As(err, &pngUnsupported) ||
		errors.As(err, &tiffUnsupported) || errors.Is(err, bmp.ErrUnsupported) {
		return fmt.Errorf("%w: %s: %w", ErrUnsupported, format, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, format, err)
}

// errReader remembers the first error from r other than io.EOF, so that
// I/O failures are not mistaken for corrupt data.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
