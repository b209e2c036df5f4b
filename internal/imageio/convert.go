package imageio

import (
	"image"
	"image/draw"
)

// Normalize returns src as a new opaque 8-bit NRGBA whose rectangle starts at
// the origin (a GIF frame or sub-image that is offset keeps only its own
// pixels).
//
// Conversions: grayscale is replicated to R=G=B; YCbCr and CMYK/YCCK go
// through the standard library's colour models; 16-bit samples are rounded to
// 8 bits; paletted images are looked up. Transparent and translucent pixels
// are composited over WHITE, so a cut-out portrait or a sticker with a
// transparent background comes out on a plain light background, the way it
// is usually shown, rather than on black.
func Normalize(src image.Image) *image.NRGBA {
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	if b.Empty() {
		return dst
	}
	switch s := src.(type) {
	case *image.NRGBA:
		nrgbaOverWhite(dst, s)
	case *image.RGBA:
		rgbaOverWhite(dst, s)
	case *image.Gray:
		grayToNRGBA(dst, s)
	case *image.Paletted:
		palettedToNRGBA(dst, s)
	case *image.YCbCr, *image.CMYK:
		// Always opaque; the standard library has fast paths into RGBA,
		// whose layout equals an opaque NRGBA.
		draw.Draw(AsRGBA(dst), dst.Rect, src, b.Min, draw.Src)
	default:
		genericOverWhite(dst, src)
	}
	return dst
}

// AsRGBA returns an *image.RGBA sharing img's pixels. It is only meaningful
// for opaque images (every alpha 255), such as those returned by this
// package, for which premultiplied and non-premultiplied layouts coincide.
// Use it to reach the RGBA fast paths of image/draw and x/image/draw.
func AsRGBA(img *image.NRGBA) *image.RGBA {
	return &image.RGBA{Pix: img.Pix, Stride: img.Stride, Rect: img.Rect}
}

// div255 returns round(x/255) for x in [0, 255*255].
func div255(x uint32) uint32 {
	x += 128
	return (x + x>>8) >> 8
}

func nrgbaOverWhite(dst, src *image.NRGBA) {
	b := src.Rect
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][: 4*w : 4*w]
		d := dst.Pix[y*dst.Stride:][: 4*w : 4*w]
		for i := 0; i < len(s); i += 4 {
			a := uint32(s[i+3])
			if a == 255 {
				d[i], d[i+1], d[i+2] = s[i], s[i+1], s[i+2]
			} else {
				bg := 255 * (255 - a)
				d[i] = uint8(div255(uint32(s[i])*a + bg))
				d[i+1] = uint8(div255(uint32(s[i+1])*a + bg))
				d[i+2] = uint8(div255(uint32(s[i+2])*a + bg))
			}
			d[i+3] = 255
		}
	}
}

func rgbaOverWhite(dst *image.NRGBA, src *image.RGBA) {
	b := src.Rect
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][: 4*w : 4*w]
		d := dst.Pix[y*dst.Stride:][: 4*w : 4*w]
		for i := 0; i < len(s); i += 4 {
			// Premultiplied: c over white is c + (255 - a). Clamp in case
			// of invalid input where c > a.
			bg := 255 - uint32(s[i+3])
			d[i] = sat8(uint32(s[i]) + bg)
			d[i+1] = sat8(uint32(s[i+1]) + bg)
			d[i+2] = sat8(uint32(s[i+2]) + bg)
			d[i+3] = 255
		}
	}
}

func sat8(v uint32) uint8 {
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func grayToNRGBA(dst *image.NRGBA, src *image.Gray) {
	b := src.Rect
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:w:w]
		d := dst.Pix[y*dst.Stride:][: 4*w : 4*w]
		for x, v := range s {
			d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = v, v, v, 255
		}
	}
}

func palettedToNRGBA(dst *image.NRGBA, src *image.Paletted) {
	// Out-of-range indices (possible in hand-made images) map to black
	// instead of panicking.
	var lut [256][3]uint8
	for i, c := range src.Palette {
		if i == len(lut) {
			break
		}
		lut[i] = over16(c.RGBA())
	}
	b := src.Rect
	w := b.Dx()
	for y := 0; y < b.Dy(); y++ {
		s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:w:w]
		d := dst.Pix[y*dst.Stride:][: 4*w : 4*w]
		for x, idx := range s {
			c := &lut[idx]
			d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = c[0], c[1], c[2], 255
		}
	}
}

// over16 composites a 16-bit premultiplied colour over white and rounds it to
// 8 bits with rounding (exactly, for colours that came from 8-bit values).
func over16(r, g, b, a uint32) [3]uint8 {
	bg := 0xffff - a
	return [3]uint8{
		uint8((min(r+bg, 0xffff)*255 + 0x7fff) / 0xffff),
		uint8((min(g+bg, 0xffff)*255 + 0x7fff) / 0xffff),
		uint8((min(b+bg, 0xffff)*255 + 0x7fff) / 0xffff),
	}
}

// genericOverWhite handles everything else (16-bit gray and colour,
// NYCbCrA from WebP with alpha, custom types) through the colour interface.
func genericOverWhite(dst *image.NRGBA, src image.Image) {
	b := src.Bounds()
	src64, fast := src.(image.RGBA64Image)
	for y := 0; y < b.Dy(); y++ {
		d := dst.Pix[y*dst.Stride:]
		for x := 0; x < b.Dx(); x++ {
			var c [3]uint8
			if fast {
				p := src64.RGBA64At(b.Min.X+x, b.Min.Y+y)
				c = over16(uint32(p.R), uint32(p.G), uint32(p.B), uint32(p.A))
			} else {
				c = over16(src.At(b.Min.X+x, b.Min.Y+y).RGBA())
			}
			d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = c[0], c[1], c[2], 255
		}
	}
}
