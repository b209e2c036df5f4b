package faces

import (
	"image"
	"image/color"
	"math"
)

// faceCentreY is the standard vertical position of the face centre, as a
// fraction of the image side; the space below holds neck and shoulders.
const faceCentreY = 0.46

// Render draws id as gender g on a size×size image. Rendering is
// deterministic: the same arguments always give the same pixels. Values of g
// other than [Man] render as [Woman]; a size below 1 gives an empty image.
//
// The image is drawn with 2 to 4 samples per pixel along each axis (more for
// small images) and box filtered, so edges are anti-aliased at every size.
func Render(id Identity, g Gender, size int) *image.NRGBA {
	if size < 1 {
		return image.NewNRGBA(image.Rectangle{})
	}
	ss := 4
	switch {
	case size > 192:
		ss = 2
	case size > 48:
		ss = 3
	}
	f := newFace(id, g)
	c := newCanvas(size*ss, id)
	f.draw(c)
	return c.downsample(ss, id)
}

// rgb is a colour with components in [0, 255].
type rgb struct{ r, g, b float64 }

func fromNRGBA(c color.NRGBA) rgb { return rgb{float64(c.R), float64(c.G), float64(c.B)} }

func (c rgb) mul(f float64) rgb { return rgb{c.r * f, c.g * f, c.b * f} }

// luma returns the perceived brightness of c in [0, 255].
func (c rgb) luma() float64 { return 0.299*c.r + 0.587*c.g + 0.114*c.b }

func mix(a, b rgb, t float64) rgb {
	return rgb{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t}
}

// layerFunc returns the colour and opacity of a layer at face coordinates
// (x, y); an opacity of 0 leaves the canvas unchanged.
type layerFunc func(x, y float64) (rgb, float64)

// canvas is the supersampled drawing surface.
type canvas struct {
	n             int       // samples per side
	pix           []float32 // n*n*3 colour components
	cx, cy        float64   // face centre in image units
	cos, sin, scl float64   // face to image rotation and scale
}

func newCanvas(n int, id Identity) *canvas {
	scl := id.Scale
	if !(scl > 0.05) {
		scl = 1
	}
	c := &canvas{
		n:   n,
		pix: make([]float32, n*n*3),
		cx:  0.5 + id.OffsetX,
		cy:  faceCentreY + id.OffsetY,
		cos: math.Cos(id.Roll),
		sin: math.Sin(id.Roll),
		scl: scl,
	}
	top, bot := fromNRGBA(id.BackgroundTop), fromNRGBA(id.BackgroundBottom)
	for j := range n {
		col := mix(top, bot, (float64(j)+0.5)/float64(n))
		row := c.pix[j*n*3 : (j+1)*n*3]
		for i := 0; i < len(row); i += 3 {
			row[i], row[i+1], row[i+2] = float32(col.r), float32(col.g), float32(col.b)
		}
	}
	return c
}

// paint blends fn over every sample whose face coordinates may lie inside
// the face-space box [x0, x1]×[y0, y1].
func (c *canvas) paint(x0, y0, x1, y1 float64, fn layerFunc) {
	umin, vmin := math.Inf(1), math.Inf(1)
	umax, vmax := math.Inf(-1), math.Inf(-1)
	for _, p := range [4][2]float64{{x0, y0}, {x1, y0}, {x0, y1}, {x1, y1}} {
		u := c.cx + c.scl*(c.cos*p[0]-c.sin*p[1])
		v := c.cy + c.scl*(c.sin*p[0]+c.cos*p[1])
		umin, umax = math.Min(umin, u), math.Max(umax, u)
		vmin, vmax = math.Min(vmin, v), math.Max(vmax, v)
	}
	nf := float64(c.n)
	i0 := max(0, int(math.Floor(umin*nf-0.5)))
	i1 := min(c.n-1, int(math.Ceil(umax*nf)))
	j0 := max(0, int(math.Floor(vmin*nf-0.5)))
	j1 := min(c.n-1, int(math.Ceil(vmax*nf)))
	if i0 > i1 || j0 > j1 {
		return
	}
	// Face coordinates change linearly along a row.
	stepX := c.cos / (c.scl * nf)
	stepY := -c.sin / (c.scl * nf)
	for j := j0; j <= j1; j++ {
		dv := (float64(j)+0.5)/nf - c.cy
		du := (float64(i0)+0.5)/nf - c.cx
		x := (c.cos*du + c.sin*dv) / c.scl
		y := (-c.sin*du + c.cos*dv) / c.scl
		k := (j*c.n + i0) * 3
		for i := i0; i <= i1; i++ {
			col, a := fn(x, y)
			if a > 0 {
				if a >= 1 {
					c.pix[k], c.pix[k+1], c.pix[k+2] = float32(col.r), float32(col.g), float32(col.b)
				} else {
					af := float32(a)
					c.pix[k] += (float32(col.r) - c.pix[k]) * af
					c.pix[k+1] += (float32(col.g) - c.pix[k+1]) * af
					c.pix[k+2] += (float32(col.b) - c.pix[k+2]) * af
				}
			}
			x += stepX
			y += stepY
			k += 3
		}
	}
}

// downsample box-filters ss×ss samples into each output pixel and applies
// the global lighting of id.
func (c *canvas) downsample(ss int, id Identity) *image.NRGBA {
	size := c.n / ss
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	bright := id.Brightness
	if !(bright > 0) {
		bright = 1
	}
	lx, ly := math.Cos(id.LightAngle)*id.LightStrength*2, math.Sin(id.LightAngle)*id.LightStrength*2
	norm := 1 / float32(ss*ss)
	for y := range size {
		v := (float64(y)+0.5)/float64(size) - 0.5
		for x := range size {
			u := (float64(x)+0.5)/float64(size) - 0.5
			light := float32(bright * (1 + lx*u + ly*v))
			var r, g, b float32
			for sy := range ss {
				k := ((y*ss+sy)*c.n + x*ss) * 3
				for range ss {
					r += c.pix[k]
					g += c.pix[k+1]
					b += c.pix[k+2]
					k += 3
				}
			}
			f := norm * light
			o := img.PixOffset(x, y)
			img.Pix[o] = to8(r * f)
			img.Pix[o+1] = to8(g * f)
			img.Pix[o+2] = to8(b * f)
			img.Pix[o+3] = 255
		}
	}
	return img
}

func to8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

func smoothstep(e0, e1, x float64) float64 {
	t := (x - e0) / (e1 - e0)
	if t <= 0 {
		return 0
	}
	if t >= 1 {
		return 1
	}
	return t * t * (3 - 2*t)
}

// fastSin approximates math.Sin to within 0.001, several times faster.
func fastSin(x float64) float64 {
	x -= 2 * math.Pi * math.Floor((x+math.Pi)/(2*math.Pi))
	ax := x
	if ax < 0 {
		ax = -ax
	}
	y := 4/math.Pi*x - 4/(math.Pi*math.Pi)*x*ax
	ay := y
	if ay < 0 {
		ay = -ay
	}
	return 0.225*(y*ay-y) + y
}

func ellipse(x, y, cx, cy, rx, ry float64) float64 {
	dx, dy := (x-cx)/rx, (y-cy)/ry
	return dx*dx + dy*dy
}

// noise returns a deterministic pseudo-random value in [0, 1) for the
// lattice cell containing (x, y) at the given frequency.
func noise(x, y, freq float64) float64 {
	ix := uint64(int64(math.Floor(x * freq)))
	iy := uint64(int64(math.Floor(y * freq)))
	h := ix*0x9E3779B97F4A7C15 ^ iy*0xC2B2AE3D27D4EB4F
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 32
	return float64(h>>11) / (1 << 53)
}
