// Package imagetest builds image files that Go's encoders cannot write, for
// the tests of the decoders and of the programs that use them: PNG chunks
// with valid CRCs (pixel bombs), and four-component (CMYK/YCCK) JPEGs.
package imagetest

import (
	"encoding/binary"
	"hash/crc32"
)

// PNGChunk frames one PNG chunk with its CRC.
func PNGChunk(typ string, data []byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	return binary.BigEndian.AppendUint32(b, crc.Sum32())
}

// PNGHeader returns a PNG signature and a valid IHDR for an 8-bit RGBA image
// of the given size, with no image data after it.
func PNGHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // depth, colour type RGBA, compression, filter, interlace
	return append([]byte("\x89PNG\r\n\x1a\n"), PNGChunk("IHDR", ihdr)...)
}

// PNGBomb is a PNG signature and a valid IHDR (correct CRC) declaring an 8-bit
// RGBA image of w x h, followed by a tiny IDAT and IEND: decoding it for real
// would need w*h*4 bytes.
func PNGBomb(w, h uint32) []byte {
	out := PNGHeader(w, h)
	out = append(out, PNGChunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1})...)
	return append(out, PNGChunk("IEND", nil)...)
}

// FourComponentJPEG hand-assembles a baseline JPEG with four components and
// no subsampling, as Photoshop writes for CMYK (Adobe transform 0); the Go
// encoder cannot produce these. The image is 8*len(samples) x 8 pixels;
// block i is flat with the stored component samples samples[i].
func FourComponentJPEG(samples [][4]uint8, transform byte) []byte {
	seg := func(marker byte, payload []byte) []byte {
		s := []byte{0xFF, marker}
		s = binary.BigEndian.AppendUint16(s, uint16(2+len(payload)))
		return append(s, payload...)
	}
	out := []byte{0xFF, 0xD8}
	out = append(out, seg(0xEE, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, transform})...)
	dqt := []byte{0x00}
	for i := 0; i < 64; i++ {
		dqt = append(dqt, 1)
	}
	out = append(out, seg(0xDB, dqt)...)
	sof := []byte{8, 0, 8}
	sof = binary.BigEndian.AppendUint16(sof, uint16(8*len(samples)))
	sof = append(sof, 4)
	for c := byte(1); c <= 4; c++ {
		sof = append(sof, c, 0x11, 0)
	}
	out = append(out, seg(0xC0, sof)...)
	dc := []byte{0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for s := byte(0); s < 12; s++ {
		dc = append(dc, s)
	}
	out = append(out, seg(0xC4, dc)...)
	out = append(out, seg(0xC4, []byte{0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00})...)
	sos := []byte{4}
	for c := byte(1); c <= 4; c++ {
		sos = append(sos, c, 0x00)
	}
	sos = append(sos, 0, 63, 0)
	out = append(out, seg(0xDA, sos)...)

	var bw bitWriterMSB
	var pred [4]int
	for _, s := range samples {
		for c := 0; c < 4; c++ {
			dcv := 8 * (int(s[c]) - 128) // flat block: DC = 8 * level-shifted sample
			diff := dcv - pred[c]
			pred[c] = dcv
			cat, mag := 0, diff
			for a := max(diff, -diff); a > 0; a >>= 1 {
				cat++
			}
			if diff < 0 {
				mag = diff + (1 << cat) - 1
			}
			bw.write(uint32(cat), 4) // canonical code of DC symbol cat
			bw.write(uint32(mag), uint(cat))
			bw.write(0, 1) // AC: end of block
		}
	}
	out = append(out, bw.flush()...)
	return append(out, 0xFF, 0xD9)
}

// bitWriterMSB packs bits most-significant first with JPEG byte stuffing.
type bitWriterMSB struct {
	buf   []byte
	acc   uint32
	nbits uint
}

func (w *bitWriterMSB) write(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>uint(i))&1
		w.nbits++
		if w.nbits == 8 {
			w.buf = append(w.buf, byte(w.acc))
			if byte(w.acc) == 0xFF {
				w.buf = append(w.buf, 0x00)
			}
			w.acc, w.nbits = 0, 0
		}
	}
}

func (w *bitWriterMSB) flush() []byte {
	for w.nbits != 0 {
		w.write(1, 1) // pad with ones
	}
	return w.buf
}
