package imageio

import (
	"fmt"
	"image"

	"golang.org/x/image/draw"
)

// Channels is the number of channels in tensor data: RGB.
const Channels = 3

// toFloatLUT maps a byte v to v/127.5 - 1, so 0 -> -1 and 255 -> +1 exactly.
var toFloatLUT = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(float64(i)/127.5 - 1)
	}
	return t
}()

// ToFloat writes img as HWC float32 RGB in [-1, 1] into dst, which must have
// length exactly 3*W*H. For NHWC batches pass the sub-slice of image i:
// dst[i*3*H*W : (i+1)*3*H*W]. Alpha is ignored.
func ToFloat(dst []float32, img *image.NRGBA) error {
	return ToFloatRegion(dst, img, img.Rect, false)
}

// ToFloatRegion is ToFloat for the rectangle r of img (which must lie inside
// img's bounds), mirrored left-right when flipX is set. It is the fused
// crop + flip + scale step of data augmentation; len(dst) must be
// 3*r.Dx()*r.Dy().
func ToFloatRegion(dst []float32, img *image.NRGBA, r image.Rectangle, flipX bool) error {
	if r.Empty() || !r.In(img.Rect) {
		return fmt.Errorf("to float: region %v not inside image bounds %v", r, img.Rect)
	}
	w, h := r.Dx(), r.Dy()
	if len(dst) != Channels*w*h {
		return fmt.Errorf("to float: dst has %d values, need %d for %dx%d RGB", len(dst), Channels*w*h, w, h)
	}
	lut := &toFloatLUT
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, r.Min.Y+y):][: 4*w : 4*w]
		out := dst[y*3*w:][: 3*w : 3*w]
		if !flipX {
			for x, j := 0, 0; x < len(row); x, j = x+4, j+3 {
				out[j] = lut[row[x]]
				out[j+1] = lut[row[x+1]]
				out[j+2] = lut[row[x+2]]
			}
		} else {
			for x, j := len(row)-4, 0; x >= 0; x, j = x-4, j+3 {
				out[j] = lut[row[x]]
				out[j+1] = lut[row[x+1]]
				out[j+2] = lut[row[x+2]]
			}
		}
	}
	return nil
}

// FromFloat builds an opaque image from HWC float32 RGB data in [-1, 1]
// (len(src) must be 3*w*h). Values are rounded to the nearest byte; values
// outside the range are clamped and NaN becomes 0. FromFloat inverts ToFloat
// exactly.
func FromFloat(src []float32, w, h int) (*image.NRGBA, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("from float: bad size %dx%d", w, h)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if err := FromFloatInto(img, src); err != nil {
		return nil, err
	}
	return img, nil
}

// FromFloatInto is FromFloat writing into an existing image, whose size
// determines the expected length of src.
func FromFloatInto(dst *image.NRGBA, src []float32) error {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	if len(src) != Channels*w*h {
		return fmt.Errorf("from float: src has %d values, need %d for %dx%d RGB", len(src), Channels*w*h, w, h)
	}
	for y := 0; y < h; y++ {
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][: 4*w : 4*w]
		in := src[y*3*w:][: 3*w : 3*w]
		for x, j := 0, 0; x < len(row); x, j = x+4, j+3 {
			row[x] = floatToByte(in[j])
			row[x+1] = floatToByte(in[j+1])
			row[x+2] = floatToByte(in[j+2])
			row[x+3] = 255
		}
	}
	return nil
}

// floatToByte maps [-1, 1] to [0, 255] with rounding, clamping and NaN -> 0.
func floatToByte(v float32) uint8 {
	f := v*127.5 + 128 // (v+1)*127.5 + 0.5 for rounding by truncation
	switch {
	case !(f >= 1): // also NaN
		return 0
	case f >= 255:
		return 255
	}
	return uint8(f)
}

// ImagesFromFloat splits NHWC float32 data of n images of h x w into images,
// as FromFloat does for one.
func ImagesFromFloat(src []float32, n, h, w int) ([]*image.NRGBA, error) {
	if n <= 0 || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("from float: bad shape %dx%dx%dx%d", n, h, w, Channels)
	}
	size := Channels * h * w
	if len(src) != n*size {
		return nil, fmt.Errorf("from float: src has %d values, need %d for shape %dx%dx%dx%d", len(src), n*size, n, h, w, Channels)
	}
	out := make([]*image.NRGBA, n)
	for i := range out {
		img, err := FromFloat(src[i*size:(i+1)*size], w, h)
		if err != nil {
			return nil, err
		}
		out[i] = img
	}
	return out, nil
}

// ToUint8 writes img as HWC uint8 RGB into dst, which must have length
// exactly 3*W*H.
func ToUint8(dst []uint8, img *image.NRGBA) error {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if len(dst) != Channels*w*h {
		return fmt.Errorf("to uint8: dst has %d values, need %d for %dx%d RGB", len(dst), Channels*w*h, w, h)
	}
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):][: 4*w : 4*w]
		out := dst[y*3*w:][: 3*w : 3*w]
		for x, j := 0, 0; x < len(row); x, j = x+4, j+3 {
			out[j], out[j+1], out[j+2] = row[x], row[x+1], row[x+2]
		}
	}
	return nil
}

// FromUint8 builds an opaque image from HWC uint8 RGB data (len(src) must be
// 3*w*h).
func FromUint8(src []uint8, w, h int) (*image.NRGBA, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("from uint8: bad size %dx%d", w, h)
	}
	if len(src) != Channels*w*h {
		return nil, fmt.Errorf("from uint8: src has %d values, need %d for %dx%d RGB", len(src), Channels*w*h, w, h)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:][: 4*w : 4*w]
		in := src[y*3*w:][: 3*w : 3*w]
		for x, j := 0, 0; x < len(row); x, j = x+4, j+3 {
			row[x], row[x+1], row[x+2], row[x+3] = in[j], in[j+1], in[j+2], 255
		}
	}
	return img, nil
}

// Resize returns the opaque image img scaled to w x h with the Catmull-Rom
// (bicubic) kernel, ignoring the aspect ratio. Smaller images are upscaled the
// same way. A non-positive w or h yields an empty image.
func Resize(img *image.NRGBA, w, h int) *image.NRGBA {
	if w <= 0 || h <= 0 {
		return &image.NRGBA{}
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	ResizeInto(dst, img)
	return dst
}

// ResizeInto scales the opaque image src onto all of dst (any previous
// content is replaced) with the Catmull-Rom kernel.
func ResizeInto(dst, src *image.NRGBA) {
	ScaleInto(draw.CatmullRom, dst, src)
}

// ScaleInto is ResizeInto with a caller-chosen scaler, for example one made
// once with draw.CatmullRom.NewScaler for a fixed pair of sizes. The output
// is identical to ResizeInto for a Catmull-Rom scaler.
func ScaleInto(s draw.Scaler, dst, src *image.NRGBA) {
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	if w == src.Rect.Dx() && h == src.Rect.Dy() {
		for y := 0; y < h; y++ {
			copy(dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w],
				src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y):][:4*w])
		}
		return
	}
	// Reading and writing through RGBA views selects x/image/draw's fastest
	// paths (the NRGBA source path divides by alpha per tap); for opaque
	// pixels premultiplied and straight alpha are the same bytes, and the
	// result is bit-identical.
	s.Scale(AsRGBA(dst), dst.Rect, AsRGBA(src), src.Rect, draw.Src, nil)
	for y := 0; y < h; y++ {
		row := dst.Pix[dst.PixOffset(dst.Rect.Min.X, dst.Rect.Min.Y+y):][:4*w]
		for i := 3; i < len(row); i += 4 {
			row[i] = 255
		}
	}
}
