package main

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// Hand-made files for the bad-input tests and the fuzz seeds. The PNG chunk
// framing and the four-component JPEG are copies of internal/imageio's test
// fixtures, which are not exported.

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// animatedGIF returns a two-frame GIF of w x h: a red frame, then a blue one.
func animatedGIF(t testing.TB, w, h int) []byte {
	t.Helper()
	pal := color.Palette{color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 255}}
	a := &gif.GIF{}
	for i := range 2 {
		f := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for j := range f.Pix {
			f.Pix[j] = uint8(i)
		}
		a.Image = append(a.Image, f)
		a.Delay = append(a.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gray returns a grayscale version of img.
func gray(img image.Image) *image.Gray {
	g := image.NewGray(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

// translucent returns img with alpha falling from 255 to 0 left to right.
func translucent(img *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	copy(out.Pix, img.Pix)
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			out.Pix[out.PixOffset(x, y)+3] = uint8(255 - 255*x/max(img.Rect.Dx()-1, 1))
		}
	}
	return out
}

// deep returns img as 16 bits per channel.
func deep(img *image.NRGBA) *image.RGBA64 {
	out := image.NewRGBA64(img.Rect)
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			out.Set(x, y, img.At(x, y))
		}
	}
	return out
}
