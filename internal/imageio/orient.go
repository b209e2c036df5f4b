package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
)

// JPEGOrientation returns the EXIF orientation (1-8) stored in the APP1 Exif
// segment of the JPEG data, or 1 when the data has no such segment, the tag is
// absent or out of range, or anything about the structure is off. Only the
// bytes before the first scan are examined, so passing just the header of a
// file is enough. It never panics on malformed input.
func JPEGOrientation(data []byte) int {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+1 < len(data) {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2 // standalone markers carry no length
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return 1
		}
		if i+4 > len(data) {
			return 1
		}
		segLen := int(data[i+2])<<8 | int(data[i+3])
		if segLen < 2 {
			return 1
		}
		end := min(i+2+segLen, len(data))
		if marker == 0xE1 {
			payload := data[i+4 : end]
			if bytes.HasPrefix(payload, []byte("Exif\x00\x00")) {
				if o := tiffOrientation(payload[6:]); o != 0 {
					return o
				}
			}
		}
		i = end
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure, returning 0
// if it is missing or invalid.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := uint64(bo.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*uint64(k)
		if e+12 > uint64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		var v uint32
		switch typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]); {
		case count < 1:
			return 0
		case typ == 3: // SHORT, value left-justified in the 4-byte field
			v = uint32(bo.Uint16(t[e+8:]))
		case typ == 4: // LONG, written by a few tools
			v = bo.Uint32(t[e+8:])
		default:
			return 0
		}
		if v < 1 || v > 8 {
			return 0
		}
		return int(v)
	}
	return 0
}

// Orient returns img transformed so that an image stored with the given EXIF
// orientation is displayed upright:
//
//	1  as stored
//	2  mirror left-right
//	3  rotate 180°
//	4  mirror top-bottom
//	5  transpose (mirror left-right, then rotate 90° counter-clockwise)
//	6  rotate 90° clockwise
//	7  transverse (mirror left-right, then rotate 90° clockwise)
//	8  rotate 90° counter-clockwise
//
// Orientations 5-8 swap width and height. Any other value returns img itself.
// The result is a new image except for orientation 1.
func Orient(img *image.NRGBA, orientation int) *image.NRGBA {
	if orientation < 2 || orientation > 8 {
		return img
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	dw, dh := w, h
	if orientation >= 5 {
		dw, dh = h, w
	}
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	ds := dst.Stride
	// Destination byte offset of source pixel (x, y) is base + x*dx + y*dy.
	var base, dx, dy int
	switch orientation {
	case 2:
		base, dx, dy = 4*(w-1), -4, ds
	case 3:
		base, dx, dy = (h-1)*ds+4*(w-1), -4, -ds
	case 4:
		base, dx, dy = (h-1)*ds, 4, -ds
	case 5:
		base, dx, dy = 0, ds, 4
	case 6:
		base, dx, dy = 4*(h-1), ds, -4
	case 7:
		base, dx, dy = (w-1)*ds+4*(h-1), -ds, -4
	case 8:
		base, dx, dy = (w-1)*ds, -ds, 4
	}
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):][: 4*w : 4*w]
		o := base + y*dy
		for i := 0; i < len(row); i += 4 {
			binary.LittleEndian.PutUint32(dst.Pix[o:], binary.LittleEndian.Uint32(row[i:]))
			o += dx
		}
	}
	return dst
}
