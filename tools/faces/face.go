package faces

import (
	"math"
)

// face holds the derived, gender-specific drawing parameters of an identity.
type face struct {
	id  Identity
	man bool

	w, hT, hB float64 // face half-width, upper and lower half-height
	hwTable   []float64

	skin, hair, beard, brow, lips, eyes, clothes rgb

	eyeX, eyeY, eyeR float64
	noseTip, noseW   float64
	mouthY, mouthW   float64
	upperLip         float64
	lowerLip         float64
	neckW            float64

	// Woman's long hair.
	hairTop, hairRX, hairRY, hairFlare, hairLen float64
}

const hwSteps = 512

func newFace(id Identity, g Gender) *face {
	f := &face{id: id, man: g == Man}
	f.w = math.Max(id.FaceWidth, 0.05)
	f.hT = math.Max(id.FaceHeight, 0.05)
	f.hB = f.hT
	jaw := clamp(id.JawWidth, 0, 1)
	p, widen := 2.0+0.5*jaw, -0.03 // soft, slightly narrow jaw
	if f.man {
		f.hB += 0.012
		p, widen = 2.9+1.1*jaw, 0.1 // square, wide jaw
	}
	f.hwTable = make([]float64, hwSteps+1)
	for i := range f.hwTable {
		t := float64(i) / hwSteps
		f.hwTable[i] = f.w * math.Pow(1-math.Pow(t, p), 1/p) * (1 + widen*math.Sqrt(t))
	}

	f.skin = fromNRGBA(id.Skin)
	f.hair = fromNRGBA(id.Hair)
	f.eyes = fromNRGBA(id.Eyes)
	f.clothes = fromNRGBA(id.Clothes)
	f.brow = mix(f.hair, rgb{25, 18, 14}, 0.3)
	// Facial hair is a little darker than head hair and always contrasts
	// with the skin: when their brightness is close, push the beard away
	// from the skin (darker, or lighter when it already is lighter).
	f.beard = f.hair.mul(0.8)
	if ls, lb := f.skin.luma(), f.beard.luma(); math.Abs(ls-lb) < 50 {
		target := math.Max(ls-50, 14)
		if lb > ls && ls+50 < 230 {
			target = ls + 50
		}
		f.beard = f.beard.mul(target / math.Max(lb, 1))
	}
	if f.man {
		f.lips = mix(f.skin.mul(0.8), rgb{170, 95, 90}, 0.35)
	} else {
		f.lips = mix(fromNRGBA(id.Lips), f.skin, 0.1)
	}

	f.eyeX, f.eyeY, f.eyeR = id.EyeSpacing, id.EyeY, math.Max(id.EyeSize, 0.005)
	f.noseTip, f.noseW = id.EyeY+id.NoseLength, math.Max(id.NoseWidth, 0.005)
	f.mouthY, f.mouthW = id.MouthY, math.Max(id.MouthWidth, 0.01)
	if f.man {
		f.mouthW *= 1.05
		f.upperLip, f.lowerLip = 0.006, 0.01
		f.neckW = 0.38 * f.w
	} else {
		f.upperLip, f.lowerLip = 0.015, 0.021
		f.neckW = 0.3 * f.w
	}

	vol := clamp(id.HairVolume, 0, 1)
	f.hairTop = -0.02
	f.hairRX = f.w + 0.05 + 0.035*vol
	f.hairRY = f.hT + 0.045 + 0.02*vol
	f.hairFlare = 0.08 + 0.12*vol
	f.hairLen = id.WomanHairLength
	return f
}

// halfWidth returns the half-width of the face at height y (0 outside).
func (f *face) halfWidth(y float64) float64 {
	if y <= -f.hT || y >= f.hB {
		return 0
	}
	if y < 0 {
		t := y / f.hT
		return f.w * math.Sqrt(1-t*t)
	}
	t := y / f.hB * hwSteps
	i := int(t)
	if i >= hwSteps {
		return 0
	}
	a := t - float64(i)
	return f.hwTable[i]*(1-a) + f.hwTable[i+1]*a
}

// draw paints all layers, back to front.
func (f *face) draw(c *canvas) {
	f.drawTorso(c)
	if !f.man {
		f.drawLongHairBack(c)
	}
	f.drawNeck(c)
	f.drawEars(c)
	f.drawFace(c)
	if f.man {
		f.drawBeard(c)
	} else {
		f.drawBlush(c)
	}
	f.drawNose(c)
	f.drawMouth(c)
	if f.man {
		f.drawMoustache(c)
	}
	f.drawEyes(c)
	f.drawBrows(c)
	if f.man {
		f.drawShortHair(c)
	} else {
		f.drawLongHairFront(c)
	}
}

func (f *face) drawTorso(c *canvas) {
	const cy, rx, ry = 0.68, 0.42, 0.26
	c.paint(-rx, cy-ry, rx, cy+ry, func(x, y float64) (rgb, float64) {
		e := ellipse(x, y, 0, cy, rx, ry)
		if e >= 1 {
			return rgb{}, 0
		}
		return f.clothes.mul(1 - 0.25*e*e), 1
	})
	// V-neck showing the skin of the chest, shaded like the bottom of the neck.
	top, depth, half := 0.41, 0.085, f.neckW*1.25
	c.paint(-half, top, half, top+depth, func(x, y float64) (rgb, float64) {
		t := (y - top) / depth
		if t < 0 || t >= 1 || math.Abs(x) >= half*(1-t) {
			return rgb{}, 0
		}
		return f.skin.mul(0.85 - 0.1*t), 1
	})
}

// longHairHalfWidth returns the half-width of the long hair mass at height
// y below the top dome.
func (f *face) longHairHalfWidth(y float64) float64 {
	return f.hairRX + f.hairFlare*(y-f.hairTop)
}

// longHairBottom returns where the long hair ends at horizontal position x.
func (f *face) longHairBottom(x float64) float64 {
	hw := f.longHairHalfWidth(f.hairLen)
	a := math.Abs(x) / hw
	return f.hairLen - 0.07*a*a*a*a + 0.012*fastSin(x*50+f.id.HairVolume*6)
}

// inLongHair reports whether (x, y) lies inside the outline of long hair.
func (f *face) inLongHair(x, y float64) bool {
	if ellipse(x, y, 0, f.hairTop, f.hairRX, f.hairRY) < 1 {
		return true
	}
	return y > f.hairTop && math.Abs(x) < f.longHairHalfWidth(y) && y < f.longHairBottom(x)
}

// hairTexture modulates hair colour with fine vertical strands.
// A band of sheen crosses the top of the head.
func (f *face) hairTexture(x, y float64) float64 {
	v := 0.96 + 0.035*fastSin(x*260+2*fastSin(y*18)) + 0.08*(noise(x, y*0.2, 300)-0.5)
	if t := (y + f.hT - 0.03) / 0.035; t > -2 && t < 2 {
		b := 1 - t*t/4
		v += 0.12 * b * b
	}
	return v
}

func (f *face) drawLongHairBack(c *canvas) {
	hw := f.longHairHalfWidth(f.hairLen + 0.02)
	c.paint(-hw, f.hairTop-f.hairRY, hw, f.hairLen+0.03, func(x, y float64) (rgb, float64) {
		if !f.inLongHair(x, y) {
			return rgb{}, 0
		}
		// The hair behind the neck is in shadow.
		shade := 1.0
		if y > 0 {
			shade = 0.62 + 0.38*smoothstep(f.neckW*0.8, f.w+0.02, math.Abs(x))
		}
		return f.hair.mul(shade * f.hairTexture(x, y)), 1
	})
}

// womanHairline returns the lower edge of the hair over the forehead.
func (f *face) womanHairline(x float64) float64 {
	switch f.id.WomanHair {
	case 1: // fringe down to the brows
		return f.eyeY - f.eyeR*0.55 - 0.045 + 0.006*fastSin(x*90)
	case 2, 3: // swept to one side
		s := 1.0
		if f.id.WomanHair == 3 {
			s = -1
		}
		return -0.175 + 0.085*smoothstep(-0.12, 0.2, s*x) + 0.6*x*x
	default: // centre parting
		return -0.17 + 2.2*x*x
	}
}

func (f *face) drawLongHairFront(c *canvas) {
	vol := clamp(f.id.HairVolume, 0, 1)
	rx, ry, cy := f.w+0.032+0.02*vol, f.hT+0.04+0.02*vol, -0.015
	hw := f.longHairHalfWidth(f.hairLen + 0.02)
	inset0 := 0.03 + 0.015*vol
	c.paint(-hw, cy-ry, hw, f.hairLen+0.03, func(x, y float64) (rgb, float64) {
		ax := math.Abs(x)
		in := ellipse(x, y, 0, cy, rx, ry) < 1 && y < f.womanHairline(x)
		if !in && y > -f.hT*0.8 && f.inLongHair(x, y) {
			// Locks falling in front of the face edges and the shoulders.
			inset := inset0*(1-smoothstep(-0.05, f.hB, y)) + 0.006
			in = ax > math.Max(f.halfWidth(y)-inset, f.neckW+0.012)
		}
		if !in {
			return rgb{}, 0
		}
		shade := 1.04
		if f.id.WomanHair == 0 && ax < 0.004 && y < f.womanHairline(0)+0.01 {
			shade = 0.75 // parting
		}
		return f.hair.mul(shade * f.hairTexture(x, y)), 1
	})
}

// manHairline returns the lower edge of short hair over the forehead.
func (f *face) manHairline(x float64) float64 {
	switch f.id.ManHair {
	case 1: // side parting
		return -0.2 + 0.8*x*x
	case 2: // receding at the temples
		ax := math.Abs(x)
		d := (ax - 0.1) / 0.045
		if d*d >= 4 {
			return -0.215 + 0.5*x*x
		}
		b := 1 - d*d/4
		return -0.215 + 0.5*x*x - 0.05*b*b
	case 3: // quiff
		return -0.205 + 0.9*x*x
	default: // crew cut
		return -0.19 + 1.0*x*x
	}
}

func (f *face) drawShortHair(c *canvas) {
	vol := clamp(f.id.HairVolume, 0, 1)
	if f.id.ManHair == 0 {
		vol *= 0.3
	}
	if f.id.ManHair == 3 {
		vol = 0.6 + 0.4*vol
	}
	rx, ry := f.w+0.013+0.022*vol, f.hT+0.02+0.045*vol
	cy := -0.015 - 0.02*vol
	sideburn := f.eyeY + 0.04
	part := 0.075
	if f.id.HairVolume > 0.5 {
		part = -part
	}
	c.paint(-rx, cy-ry, rx, sideburn, func(x, y float64) (rgb, float64) {
		in := ellipse(x, y, 0, cy, rx, ry) < 1
		if !in {
			return rgb{}, 0
		}
		if y >= f.manHairline(x) {
			// Sideburns and the hair over the ears.
			hw, ax := f.halfWidth(y), math.Abs(x)
			if y > sideburn || ax < hw-0.022 || (y > f.eyeY-0.01 && ax > hw+0.004) {
				return rgb{}, 0
			}
		}
		shade := 0.9 + 0.2*noise(x, y, 400)
		if f.id.ManHair == 1 && math.Abs(x-part) < 0.004 && y < f.manHairline(part)-0.005 {
			shade *= 0.7
		}
		return f.hair.mul(shade), 1
	})
}

func (f *face) drawNeck(c *canvas) {
	nw := f.neckW
	c.paint(-nw*1.3, 0, nw*1.3, 0.5, func(x, y float64) (rgb, float64) {
		w := nw * (1 + 0.25*smoothstep(0.34, 0.45, y))
		if math.Abs(x) >= w {
			return rgb{}, 0
		}
		shade := 0.7 + 0.15*smoothstep(f.hB-0.02, f.hB+0.08, y)
		return f.skin.mul(shade), 1
	})
}

func (f *face) drawEars(c *canvas) {
	ey := f.eyeY + 0.035
	rx, ry := 0.022, 0.042
	for _, s := range []float64{-1, 1} {
		ex := s * (f.halfWidth(ey) - 0.004)
		c.paint(ex-rx, ey-ry, ex+rx, ey+ry, func(x, y float64) (rgb, float64) {
			e := ellipse(x, y, ex, ey, rx, ry)
			if e >= 1 {
				return rgb{}, 0
			}
			if ellipse(x, y, ex+s*0.004, ey, rx*0.5, ry*0.6) < 1 {
				return f.skin.mul(0.72), 1
			}
			return f.skin.mul(0.9), 1
		})
	}
}

func (f *face) drawFace(c *canvas) {
	c.paint(-f.w*1.15, -f.hT, f.w*1.15, f.hB, func(x, y float64) (rgb, float64) {
		hw := f.halfWidth(y)
		ax := math.Abs(x)
		if ax >= hw {
			return rgb{}, 0
		}
		a := ax / hw
		a2 := a * a
		shade := 1 - 0.16*a2*a2
		if y > 0 {
			t := y / f.hB
			t2 := t * t
			shade -= 0.1 * t2 * t2 * t2
		}
		return f.skin.mul(shade), 1
	})
}

func (f *face) drawBlush(c *canvas) {
	cheek := rgb{225, 95, 110}
	for _, s := range []float64{-1, 1} {
		cx, cy, rx, ry := s*(f.eyeX+0.015), f.eyeY+0.08, 0.042, 0.026
		c.paint(cx-rx, cy-ry, cx+rx, cy+ry, func(x, y float64) (rgb, float64) {
			e := ellipse(x, y, cx, cy, rx, ry)
			if e >= 1 {
				return rgb{}, 0
			}
			return cheek, 0.22 * (1 - e)
		})
	}
}

func (f *face) drawNose(c *canvas) {
	tip, nw := f.noseTip, f.noseW
	dark := f.skin.mul(0.45)
	side := 1.0 // shade the side facing away from the light
	if math.Cos(f.id.LightAngle) > 0 {
		side = -1
	}
	c.paint(-nw*1.2, f.eyeY, nw*1.2, tip+0.02, func(x, y float64) (rgb, float64) {
		// Nostrils.
		for _, s := range []float64{-1, 1} {
			if ellipse(x, y, s*nw*0.5, tip, nw*0.32, nw*0.2) < 1 {
				return dark, 0.85
			}
		}
		// Shadow under the tip.
		if e := ellipse(x, y, 0, tip+0.006, nw*0.75, 0.012); e < 1 {
			return dark, 0.25 * (1 - e)
		}
		// Shaded side of the bridge.
		if y > f.eyeY+0.02 && y < tip-0.008 {
			t := (y - f.eyeY - 0.02) / (tip - 0.008 - f.eyeY - 0.02)
			lx := side * nw * (0.35 + 0.3*t)
			if math.Abs(x-lx) < 0.005 {
				return dark, 0.3 * math.Sin(t*math.Pi)
			}
		}
		// Highlight on the tip.
		if e := ellipse(x, y, 0, tip-0.012, nw*0.35, nw*0.3); e < 1 {
			return rgb{255, 250, 245}, 0.15 * (1 - e)
		}
		return rgb{}, 0
	})
}

func (f *face) drawMouth(c *canvas) {
	mw, my := f.mouthW, f.mouthY
	line := f.lips.mul(0.45)
	alpha := 1.0
	if f.man {
		alpha = 0.85
	}
	c.paint(-mw, my-f.upperLip-0.005, mw, my+f.lowerLip+0.005, func(x, y float64) (rgb, float64) {
		dx := x / mw
		b := 1 - dx*dx
		if b <= 0 {
			return rgb{}, 0
		}
		dy := y - my - 0.004*dx*dx
		if math.Abs(dy) < 0.0035*math.Sqrt(b)+0.001 {
			return line, alpha
		}
		if dy < 0 {
			bow := 1 - 0.3*math.Exp(-dx*dx/0.03)
			if -dy < f.upperLip*math.Pow(b, 0.6)*bow {
				return f.lips.mul(0.88), alpha
			}
			return rgb{}, 0
		}
		lo := f.lowerLip * math.Sqrt(b)
		if dy < lo {
			hl := math.Exp(-(dx*dx)/0.15 - (dy-lo*0.4)*(dy-lo*0.4)/(lo*lo*0.1+1e-9))
			return mix(f.lips, rgb{255, 235, 235}, 0.2*hl), alpha
		}
		return rgb{}, 0
	})
}

// beardColour returns the speckled colour of facial hair at (x, y).
func (f *face) beardColour(x, y float64) rgb {
	return f.beard.mul(0.9 + 0.25*noise(x, y, 350))
}

// beardCover returns the coverage in [0, 1] of the beard area at (x, y):
// the lower face below the cheek line, with the jaw outline extended
// downwards by ext and the cheek line lowered by lower. The upper edge fades
// over a short distance.
func (f *face) beardCover(x, y, ext, lower float64) float64 {
	if y < f.eyeY || y > f.hB+ext {
		return 0
	}
	yy := math.Max(y, 0) * f.hB / (f.hB + ext)
	ax := math.Abs(x)
	if ax >= f.halfWidth(yy)+0.006 {
		return 0
	}
	a := ax / f.w
	a1 := (f.mouthW + 0.02) / f.w
	c0 := f.noseTip + 0.012
	cm := f.mouthY - 0.03 + lower
	ce := f.eyeY + 0.045 + lower // joins the sideburns
	var line float64
	if a < a1 {
		line = c0 + (cm-c0)*smoothstep(a1*0.5, a1, a)
	} else {
		line = cm + (ce-cm)*smoothstep(a1, 1, a)
	}
	return smoothstep(line, line+0.018, y)
}

func (f *face) drawBeard(c *canvas) {
	ext, lower, alpha := 0.0, 0.0, 1.0
	switch f.id.Beard {
	case FullBeard:
		ext = 0.045
	case BoxedBeard:
		ext, lower, alpha = 0.016, 0.015, 0.92
	case Goatee:
		ext = 0.02
	case Moustache:
		ext, alpha = 0.004, 0.3
	default: // Stubble
		ext, alpha = 0.006, 0.6
	}
	w := f.w * 1.2
	c.paint(-w, f.eyeY, w, f.hB+ext, func(x, y float64) (rgb, float64) {
		a := f.beardCover(x, y, ext, lower)
		if a <= 0 {
			return rgb{}, 0
		}
		if f.id.Beard == Goatee {
			// A band around mouth and chin, following the jaw line below.
			e := math.Abs(x) / (f.mouthW + 0.008 + 0.05*smoothstep(f.mouthY-0.01, f.hB, y))
			if e >= 1 {
				return rgb{}, 0
			}
			a *= smoothstep(1, 0.85, e)
		}
		return f.beardColour(x, y), a * alpha
	})
}

func (f *face) drawMoustache(c *canvas) {
	mw := f.mouthW + 0.014
	top := f.noseTip + 0.01
	thick := 1.0
	if f.id.Beard == Stubble || f.id.Beard == BoxedBeard {
		thick = 0.8
	}
	c.paint(-mw, top, mw, f.mouthY+0.02, func(x, y float64) (rgb, float64) {
		d := x / mw
		if math.Abs(d) >= 1 {
			return rgb{}, 0
		}
		t := top + 0.01*d*d
		b := t + (f.mouthY-0.002-t)*thick + 0.014*d*d
		if y < t || y > b {
			return rgb{}, 0
		}
		return f.beardColour(x, y).mul(0.92), 1
	})
}

func (f *face) drawEyes(c *canvas) {
	r := f.eyeR
	ir, pr := r*0.5, r*0.22
	lid := 0.0035
	if !f.man {
		lid = 0.0075
	}
	white := rgb{242, 240, 235}
	lidCol := rgb{30, 22, 20}
	for _, s := range []float64{-1, 1} {
		ex, ey := s*f.eyeX, f.eyeY
		c.paint(ex-r*1.15, ey-r, ex+r*1.15, ey+r, func(x, y float64) (rgb, float64) {
			dx := (x - ex) / r
			if math.Abs(dx) >= 1.1 {
				return rgb{}, 0
			}
			h := r * 0.55 * (1 - dx*dx)
			dy := y - ey
			if math.Abs(dx) < 1 && dy > -h && dy < h*0.8 {
				d2 := (x-ex)*(x-ex) + dy*dy
				switch {
				case d2 < pr*pr:
					return rgb{15, 12, 12}, 1
				case d2 < ir*ir:
					hx, hy := x-ex-0.35*ir, dy+0.35*ir
					if hx*hx+hy*hy < 0.09*ir*ir {
						return rgb{255, 255, 255}, 1
					}
					return f.eyes.mul(1 - 0.35*d2/(ir*ir)), 1
				}
				return white, 1
			}
			// Upper lid line, with a small wing at the outer corner for women.
			hl := r * 0.55 * (1 - math.Min(dx*dx, 1))
			if dy <= -hl+0.0005 && dy > -hl-lid && math.Abs(dx) < 1.02 {
				return lidCol, 1
			}
			if !f.man && s*dx > 0.85 && s*dx < 1.1 && dy < 0 && dy > -lid-0.004*(s*dx-0.85)/0.25 {
				return lidCol, 1
			}
			return rgb{}, 0
		})
	}
}

func (f *face) drawBrows(c *canvas) {
	r := f.eyeR
	bt := clamp(f.id.BrowThickness, 0, 1)
	gap, half, arch, thick, alpha := 0.034, r*1.25, 0.014, 0.007+0.004*bt, 0.9
	if f.man {
		gap, half, arch, thick, alpha = 0.024, r*1.4, 0.005, 0.019+0.012*bt, 1
	}
	for _, s := range []float64{-1, 1} {
		bx := s * (f.eyeX + 0.004)
		by := f.eyeY - r*0.55 - gap
		c.paint(bx-half, by-arch-thick, bx+half, by+thick, func(x, y float64) (rgb, float64) {
			t := s * (x - bx) / half // -1 at the inner end, 1 at the outer end
			if math.Abs(t) >= 1 {
				return rgb{}, 0
			}
			yc := by - arch*(1-t*t) + 0.004*t
			t2 := t * t
			th := thick * (1 - 0.45*smoothstep(-0.2, 1, t)) * math.Sqrt(1-t2*t2*t2*t2)
			if math.Abs(y-yc) >= th/2 {
				return rgb{}, 0
			}
			return f.brow.mul(0.9 + 0.2*noise(x, y, 500)), alpha
		})
	}
}
