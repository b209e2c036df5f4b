package imageio

import (
	"bufio"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultJPEGQuality is the JPEG quality used when a caller passes 0.
const DefaultJPEGQuality = 95

// EncodePNG writes img to w as PNG (RGB when img is opaque, RGBA otherwise).
func EncodePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// EncodeJPEG writes img to w as baseline JPEG with 4:2:0 chroma subsampling.
// quality is 1-100; 0 means DefaultJPEGQuality. Alpha is discarded, so pass
// opaque images (as returned by Decode).
func EncodeJPEG(w io.Writer, img image.Image, quality int) error {
	if quality == 0 {
		quality = DefaultJPEGQuality
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("encode jpeg: quality %d outside 1-100", quality)
	}
	// The encoder has a fast path for *image.RGBA but not *image.NRGBA; an
	// opaque NRGBA has the same bytes.
	if n, ok := img.(*image.NRGBA); ok && n.Opaque() {
		img = AsRGBA(n)
	}
	if err := jpeg.Encode(w, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("encode jpeg: %w", err)
	}
	return nil
}

// WriteFile encodes img to path, choosing the format from the extension
// (.png, .jpg or .jpeg, case-insensitive); quality applies to JPEG as in
// EncodeJPEG. The file is written to a temporary name in the same directory
// and renamed into place, so readers never see a partial image.
func WriteFile(path string, img image.Image, quality int) (err error) {
	var encode func(io.Writer) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		encode = func(w io.Writer) error { return EncodePNG(w, img) }
	case ".jpg", ".jpeg":
		encode = func(w io.Writer) error { return EncodeJPEG(w, img, quality) }
	default:
		return fmt.Errorf("write %s: unsupported extension %q (want .png, .jpg or .jpeg)", path, filepath.Ext(path))
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := encode(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
