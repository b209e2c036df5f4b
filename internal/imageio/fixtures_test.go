package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Test fixtures built in memory: a colourful pattern, hand-made bitstreams for
// what Go cannot encode (WebP, CMYK JPEG, EXIF), and a PNG "bomb" header.

// pattern returns a deterministic, smooth, opaque gradient in which every
// pixel is distinct (for sizes up to 256).
func pattern(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i] = uint8(x * 255 / max(w-1, 1))
			img.Pix[i+1] = uint8(y * 255 / max(h-1, 1))
			img.Pix[i+2] = uint8(255 - (x+y)*255/max(w+h-2, 1))
			img.Pix[i+3] = 255
		}
	}
	return img
}

// blocks returns an opaque image made of bw x bh blocks of the given colours,
// laid out row by row, cols blocks per row.
func blocks(cols, bw, bh int, colors ...color.NRGBA) *image.NRGBA {
	rows := (len(colors) + cols - 1) / cols
	img := image.NewNRGBA(image.Rect(0, 0, cols*bw, rows*bh))
	for y := 0; y < rows*bh; y++ {
		for x := 0; x < cols*bw; x++ {
			img.SetNRGBA(x, y, colors[(y/bh)*cols+x/bw])
		}
	}
	return img
}

// rgb is shorthand for an opaque NRGBA colour.
func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{r, g, b, 255} }

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withEXIF inserts an APP1 Exif segment carrying the orientation tag right
// after the SOI marker of a JPEG.
func withEXIF(jpg []byte, orientation uint16, order binary.ByteOrder) []byte {
	bo := order.(binary.AppendByteOrder)
	var tiff []byte
	if order == binary.ByteOrder(binary.LittleEndian) {
		tiff = append(tiff, 'I', 'I')
	} else {
		tiff = append(tiff, 'M', 'M')
	}
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8) // IFD0 offset
	tiff = bo.AppendUint16(tiff, 2) // two entries: a decoy, then orientation
	// ImageDescription (0x010E), ASCII, count 4, inline "abc\0".
	tiff = bo.AppendUint16(tiff, 0x010E)
	tiff = bo.AppendUint16(tiff, 2)
	tiff = bo.AppendUint32(tiff, 4)
	tiff = append(tiff, 'a', 'b', 'c', 0)
	// Orientation (0x0112), SHORT, count 1, value left-justified.
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3)
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, orientation)
	tiff = bo.AppendUint16(tiff, 0)
	tiff = bo.AppendUint32(tiff, 0) // no next IFD

	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+len(payload)))
	seg = append(seg, payload...)

	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// bitWriterLSB packs bits least-significant first, as VP8L does.
type bitWriterLSB struct {
	buf   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriterLSB) write(v uint32, n uint) {
	w.acc |= uint64(v) << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

func (w *bitWriterLSB) bytes() []byte {
	if w.nbits > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nbits = 0, 0
	}
	return w.buf
}

// losslessWebP encodes img as a WebP lossless (VP8L) file. It supports only
// images with at most two distinct values per channel, which lets every
// channel use a "simple" one- or two-symbol prefix code: no transforms, no
// colour cache, no backward references. Good enough to exercise the decoder
// with exact, known pixels.
func losslessWebP(t testing.TB, img *image.NRGBA) []byte {
	t.Helper()
	b := img.Bounds()
	var vals [4][]uint8 // distinct values per channel (R, G, B, A), ascending
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.Pix[img.PixOffset(x, y):]
			for c := 0; c < 4; c++ {
				seen := false
				for _, v := range vals[c] {
					seen = seen || v == p[c]
				}
				if !seen {
					vals[c] = append(vals[c], p[c])
				}
			}
		}
	}
	for c := range vals {
		if len(vals[c]) > 2 {
			t.Fatalf("losslessWebP: channel %d has %d values, at most 2 supported", c, len(vals[c]))
		}
		if len(vals[c]) == 2 && vals[c][0] > vals[c][1] {
			vals[c][0], vals[c][1] = vals[c][1], vals[c][0]
		}
	}
	var bw bitWriterLSB
	bw.write(0x2f, 8)
	bw.write(uint32(b.Dx()-1), 14)
	bw.write(uint32(b.Dy()-1), 14)
	hasAlpha := uint32(0)
	if len(vals[3]) > 1 || vals[3][0] != 255 {
		hasAlpha = 1
	}
	bw.write(hasAlpha, 1)
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	simple := func(syms []uint8) {
		bw.write(1, 1) // simple code
		bw.write(uint32(len(syms)-1), 1)
		bw.write(1, 1) // first symbol uses 8 bits
		for _, s := range syms {
			bw.write(uint32(s), 8)
		}
	}
	// Prefix code order: green, red, blue, alpha, distance.
	simple(vals[1])
	simple(vals[0])
	simple(vals[2])
	simple(vals[3])
	simple([]uint8{0})
	code := func(c int, v uint8) {
		if len(vals[c]) == 2 {
			if v == vals[c][1] {
				bw.write(1, 1)
			} else {
				bw.write(0, 1)
			}
		}
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := img.Pix[img.PixOffset(x, y):]
			code(1, p[1])
			code(0, p[0])
			code(2, p[2])
			code(3, p[3])
		}
	}
	data := bw.bytes()
	chunk := append([]byte("VP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	chunk = append(chunk, data...)
	if len(data)%2 == 1 {
		chunk = append(chunk, 0) // RIFF chunks are padded to even length
	}
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}
