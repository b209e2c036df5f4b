package imageio

import (
	"bytes"
	"image"
	"math"
	"strings"
	"testing"

	"golang.org/x/image/draw"
)

func TestFloatRoundTripIsExact(t *testing.T) {
	src := pattern(256, 3) // every byte value appears in the red channel
	buf := make([]float32, 3*256*3)
	if err := ToFloat(buf, src); err != nil {
		t.Fatal(err)
	}
	for i, v := range buf {
		if v < -1 || v > 1 {
			t.Fatalf("value %d = %v outside [-1,1]", i, v)
		}
	}
	if buf[0] != -1 || buf[3*255] != 1 { // red of x=0 is 0, of x=255 is 255
		t.Errorf("endpoints map to %v and %v, want -1 and 1", buf[0], buf[3*255])
	}
	back, err := FromFloat(buf, 256, 3)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(back, src); d != 0 {
		t.Errorf("round trip differs by %d", d)
	}
	requireOpaqueAtOrigin(t, back)
}

func TestToFloatRegionCropsAndFlips(t *testing.T) {
	src := pattern(6, 4)
	r := image.Rect(1, 2, 4, 4) // 3x2
	tests := []struct {
		name string
		flip bool
		sx   func(x int) int // source column for output column x
	}{
		{"crop", false, func(x int) int { return 1 + x }},
		{"crop and mirror", true, func(x int) int { return 3 - x }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]float32, 3*3*2)
			if err := ToFloatRegion(buf, src, r, tt.flip); err != nil {
				t.Fatal(err)
			}
			for y := 0; y < 2; y++ {
				for x := 0; x < 3; x++ {
					p := src.Pix[src.PixOffset(tt.sx(x), 2+y):]
					for c := 0; c < 3; c++ {
						want := float32(float64(p[c])/127.5 - 1)
						if got := buf[(y*3+x)*3+c]; got != want {
							t.Fatalf("(%d,%d,%d) = %v, want %v", x, y, c, got, want)
						}
					}
				}
			}
		})
	}
}

func TestTensorHelpersRejectBadShapes(t *testing.T) {
	img := pattern(4, 4)
	tests := []struct {
		name string
		err  error
	}{
		{"ToFloat short dst", ToFloat(make([]float32, 47), img)},
		{"ToFloat long dst", ToFloat(make([]float32, 49), img)},
		{"ToFloatRegion outside", ToFloatRegion(make([]float32, 48), img, image.Rect(1, 0, 5, 4), false)},
		{"ToFloatRegion empty", ToFloatRegion(nil, img, image.Rect(1, 1, 1, 1), false)},
		{"FromFloatInto short src", FromFloatInto(img, make([]float32, 3))},
		{"ToUint8 short dst", ToUint8(make([]uint8, 3), img)},
		{"FromFloat zero size", func() error { _, err := FromFloat(nil, 0, 4); return err }()},
		{"FromUint8 short src", func() error { _, err := FromUint8(make([]uint8, 5), 2, 2); return err }()},
		{"ImagesFromFloat bad length", func() error { _, err := ImagesFromFloat(make([]float32, 10), 2, 2, 2); return err }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestFromFloatClampsAndRounds(t *testing.T) {
	nan := float32(math.NaN())
	in := []float32{-5, -1, -0.99, 0, 0.5, 1, 7, nan, float32(math.Inf(1))}
	want := []uint8{0, 0, 1, 128, 191, 255, 255, 0, 255}
	img, err := FromFloat(in, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if got := img.Pix[i/3*4+i%3]; got != w {
			t.Errorf("value %v -> %d, want %d", in[i], got, w)
		}
	}
}

func TestImagesFromFloatSplitsBatch(t *testing.T) {
	a, b := pattern(3, 2), Orient(pattern(3, 2), 3)
	batch := make([]float32, 2*18)
	if err := ToFloat(batch[:18], a); err != nil {
		t.Fatal(err)
	}
	if err := ToFloat(batch[18:], b); err != nil {
		t.Fatal(err)
	}
	imgs, err := ImagesFromFloat(batch, 2, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(imgs[0], a) != 0 || maxDiff(imgs[1], b) != 0 {
		t.Error("batch images do not round-trip")
	}
}

func TestUint8RoundTrip(t *testing.T) {
	src := pattern(7, 5)
	buf := make([]uint8, 3*7*5)
	if err := ToUint8(buf, src); err != nil {
		t.Fatal(err)
	}
	if buf[3*6] != 255 || buf[1] != 0 {
		t.Errorf("unexpected layout: %v", buf[:21])
	}
	back, err := FromUint8(buf, 7, 5)
	if err != nil {
		t.Fatal(err)
	}
	if maxDiff(back, src) != 0 {
		t.Error("uint8 round trip differs")
	}
	requireOpaqueAtOrigin(t, back)
}

func TestResize(t *testing.T) {
	t.Run("upscales a tiny image smoothly", func(t *testing.T) {
		tiny := blocks(2, 1, 1, rgb(0, 0, 0), rgb(255, 255, 255)) // 2x1
		got := Resize(tiny, 64, 8)
		requireOpaqueAtOrigin(t, got)
		if got.Rect.Dx() != 64 || got.Rect.Dy() != 8 {
			t.Fatalf("size %v", got.Rect.Size())
		}
		if l, r := rgbAt(got, 0, 4), rgbAt(got, 63, 4); l[0] > 10 || r[0] < 245 {
			t.Errorf("edges %v %v, want black and white", l, r)
		}
		if m := rgbAt(got, 32, 4); m[0] < 60 || m[0] > 195 {
			t.Errorf("middle %v, want an intermediate grey", m)
		}
	})
	t.Run("flat stays flat", func(t *testing.T) {
		flat := blocks(1, 5, 3, rgb(10, 120, 240))
		got := Resize(flat, 17, 29)
		for y := 0; y < 29; y++ {
			for x := 0; x < 17; x++ {
				if g := rgbAt(got, x, y); !near(g, [3]int{10, 120, 240}, 1) {
					t.Fatalf("pixel (%d,%d) = %v", x, y, g)
				}
			}
		}
	})
	t.Run("bit-identical to x/image/draw Catmull-Rom", func(t *testing.T) {
		src := pattern(37, 23)
		for _, size := range []image.Point{{72, 72}, {16, 9}, {37, 50}} {
			want := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
			draw.CatmullRom.Scale(want, want.Rect, src, src.Rect, draw.Src, nil)
			got := Resize(src, size.X, size.Y)
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("%v: Resize differs from draw.CatmullRom.Scale", size)
			}
			cached := image.NewNRGBA(got.Rect)
			ScaleInto(draw.CatmullRom.NewScaler(size.X, size.Y, 37, 23), cached, src)
			if !bytes.Equal(cached.Pix, want.Pix) {
				t.Errorf("%v: cached scaler differs", size)
			}
		}
	})
	t.Run("same size copies", func(t *testing.T) {
		src := pattern(9, 9)
		if d := maxDiff(Resize(src, 9, 9), src); d != 0 {
			t.Errorf("differs by %d", d)
		}
	})
	t.Run("sub-image source", func(t *testing.T) {
		src := pattern(20, 20).SubImage(image.Rect(5, 5, 15, 15)).(*image.NRGBA)
		got := Resize(src, 10, 10)
		if rgbAt(got, 0, 0) != rgbAt(src, 5, 5) {
			t.Errorf("copy of sub-image starts at %v, want %v", rgbAt(got, 0, 0), rgbAt(src, 5, 5))
		}
	})
}

func TestErrorMessagesAreLowercaseWithContext(t *testing.T) {
	err := ToFloat(make([]float32, 1), pattern(2, 2))
	if err == nil || !strings.HasPrefix(err.Error(), "to float:") {
		t.Errorf("error %v lacks context", err)
	}
}
