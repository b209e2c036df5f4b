// Package faces draws synthetic frontal cartoon faces and writes them as an
// unpaired two-domain image data set (women and men) for CycleGAN training.
//
// A face is described by an [Identity]: the gender-independent features of a
// person (face shape, skin tone, eye colour, pose, lighting, background, ...).
// [Render] draws an identity as a [Woman] or as a [Man]. The two renderings of
// one identity share every identity feature and differ only in gendered
// features: women have long hair falling to the shoulders, thin brows, full
// coloured lips and a soft narrow jaw; men have short hair, a beard and/or a
// moustache, heavy brows and a wide jaw.
//
// [WriteDataset] and [EnsureDataset] write a reproducible data set of PNG
// files laid out as
//
//	root/manifest.json
//	root/train/woman/woman_00000.png ...
//	root/train/man/man_00000.png ...
//	root/test/woman/id00000.png ...
//	root/test/man/id00000.png ...
//
// The training identities of the two domains are disjoint from each other and
// from the test identities; each test identity is rendered in both domains
// under the same file name so that an evaluator can pair them.
//
// All lengths in an Identity are fractions of the image side, so a face looks
// the same at every output size.
package faces

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
)

// Gender selects which gendered features [Render] draws.
type Gender int

// The two domains of the data set.
const (
	Woman Gender = iota
	Man
)

// String returns "woman" or "man", which are also the data set directory
// names of the two domains.
func (g Gender) String() string {
	switch g {
	case Woman:
		return "woman"
	case Man:
		return "man"
	}
	return fmt.Sprintf("Gender(%d)", int(g))
}

// BeardStyle is the facial hair an identity wears when rendered as a [Man].
type BeardStyle int

// Beard styles. Every style includes a moustache.
const (
	FullBeard  BeardStyle = iota // long beard covering cheeks, jaw and chin
	BoxedBeard                   // short, trimmed beard along the jaw
	Goatee                       // chin beard joined to a moustache
	Moustache                    // thick moustache over light stubble
	Stubble                      // moustache over a dark shadow of stubble
)

const numBeardStyles = int(Stubble) + 1

// String returns the lower-case name of the style.
func (b BeardStyle) String() string {
	switch b {
	case FullBeard:
		return "full"
	case BoxedBeard:
		return "boxed"
	case Goatee:
		return "goatee"
	case Moustache:
		return "moustache"
	case Stubble:
		return "stubble"
	}
	return fmt.Sprintf("BeardStyle(%d)", int(b))
}

// Number of hairstyle variants selectable through Identity.WomanHair and
// Identity.ManHair.
const (
	NumWomanHairStyles = 4 // centre parting, fringe, swept left, swept right
	NumManHairStyles   = 4 // crew cut, side parting, receding, quiff
)

// Identity holds the gender-independent features of one synthetic person and
// the scene around them. Lengths and positions are fractions of the image
// side, measured in face coordinates: the origin is the centre of the face
// ellipse, x grows to the right of the image and y grows downwards.
//
// The zero value is not a useful face; use [NewIdentity].
type Identity struct {
	// FaceWidth and FaceHeight are the half-axes of the face ellipse.
	FaceWidth, FaceHeight float64
	// JawWidth in [0, 1] goes from a narrow pointed chin to a broad square
	// jaw. Men are rendered with a wider jaw than women of the same identity.
	JawWidth float64

	// Skin is the skin tone.
	Skin color.NRGBA
	// Hair is the hair colour, also used for brows, beard and moustache.
	Hair color.NRGBA
	// Eyes is the iris colour.
	Eyes color.NRGBA
	// Lips is the lip colour of the woman; the man's lips are a muted blend
	// of skin and a neutral lip tone.
	Lips color.NRGBA
	// Clothes is the colour of the shirt visible at the bottom of the image.
	Clothes color.NRGBA

	// EyeSpacing is half the distance between the eye centres.
	EyeSpacing float64
	// EyeY is the vertical position of the eye centres (negative is up).
	EyeY float64
	// EyeSize is the half-width of one eye.
	EyeSize float64
	// NoseLength is the distance from the eye line to the tip of the nose.
	NoseLength float64
	// NoseWidth is the half-width of the nose at the nostrils.
	NoseWidth float64
	// MouthY is the vertical position of the line between the lips.
	MouthY float64
	// MouthWidth is the half-width of the mouth.
	MouthWidth float64
	// BrowThickness in [0, 1] scales the brow thickness within the range of
	// each gender (women's brows are always much thinner than men's).
	BrowThickness float64

	// WomanHair selects the long hairstyle, 0 to NumWomanHairStyles-1.
	WomanHair int
	// WomanHairLength is where the woman's hair ends, in face coordinates
	// (around the shoulders, 0.35 to 0.55).
	WomanHairLength float64
	// ManHair selects the short hairstyle, 0 to NumManHairStyles-1.
	ManHair int
	// HairVolume in [0, 1] is how far the hair stands out from the head.
	HairVolume float64
	// Beard is the facial hair of the man.
	Beard BeardStyle

	// OffsetX and OffsetY move the face from its standard position.
	OffsetX, OffsetY float64
	// Scale enlarges (>1) or shrinks (<1) the head and shoulders.
	Scale float64
	// Roll tilts the head and shoulders, in radians (clockwise positive).
	Roll float64

	// Brightness multiplies the whole image (1 is neutral).
	Brightness float64
	// LightAngle is the direction, in radians in image coordinates, towards
	// which the image gets brighter.
	LightAngle float64
	// LightStrength is the relative brightness change from the image centre
	// to its edge along LightAngle (0 is uniform lighting).
	LightStrength float64

	// BackgroundTop and BackgroundBottom are the background colours at the
	// top and bottom of the image, blended vertically (equal colours give a
	// uniform background).
	BackgroundTop, BackgroundBottom color.NRGBA
}

var (
	skinPalette = []color.NRGBA{
		{255, 224, 196, 255}, {241, 194, 167, 255}, {224, 172, 135, 255},
		{198, 134, 98, 255}, {161, 102, 70, 255}, {120, 75, 50, 255}, {88, 56, 38, 255},
	}
	hairPalette = []color.NRGBA{
		{28, 22, 20, 255}, {28, 22, 20, 255}, {58, 38, 28, 255}, {58, 38, 28, 255},
		{96, 62, 38, 255}, {96, 62, 38, 255}, {140, 100, 62, 255}, {175, 138, 88, 255},
		{218, 184, 118, 255}, {140, 60, 30, 255}, {176, 82, 40, 255}, {160, 158, 155, 255},
	}
	eyePalette = []color.NRGBA{
		{92, 58, 30, 255}, {58, 38, 22, 255}, {70, 112, 165, 255},
		{78, 122, 78, 255}, {118, 96, 52, 255}, {112, 122, 134, 255},
	}
	lipPalette = []color.NRGBA{
		{196, 58, 78, 255}, {205, 88, 104, 255}, {165, 38, 56, 255},
		{218, 112, 128, 255}, {150, 44, 74, 255}, {190, 80, 62, 255},
	}
	// Relative frequency of each BeardStyle.
	beardWeights = [numBeardStyles]float64{0.3, 0.25, 0.2, 0.1, 0.15}
)

// NewIdentity draws a random identity from r with plausible ranges for every
// feature. The result depends only on the state of r.
func NewIdentity(r *rand.Rand) Identity {
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	var id Identity
	id.FaceWidth = u(0.205, 0.235)
	id.FaceHeight = u(0.275, 0.305)
	id.JawWidth = r.Float64()

	t := u(0, float64(len(skinPalette)-1))
	i := min(int(t), len(skinPalette)-2)
	id.Skin = jitter(r, lerpNRGBA(skinPalette[i], skinPalette[i+1], t-float64(i)), 6)
	id.Hair = jitter(r, hairPalette[r.IntN(len(hairPalette))], 10)
	id.Eyes = jitter(r, eyePalette[r.IntN(len(eyePalette))], 10)
	id.Lips = jitter(r, lipPalette[r.IntN(len(lipPalette))], 10)
	id.Clothes = hsv(u(0, 360), u(0.25, 0.7), u(0.25, 0.75))

	id.EyeSpacing = u(0.085, 0.1)
	id.EyeY = u(-0.035, -0.01)
	id.EyeSize = u(0.034, 0.042)
	id.NoseLength = u(0.075, 0.095)
	id.NoseWidth = u(0.03, 0.04)
	id.MouthY = id.EyeY + id.NoseLength + u(0.05, 0.065)
	id.MouthWidth = u(0.045, 0.06)
	id.BrowThickness = r.Float64()

	id.WomanHair = r.IntN(NumWomanHairStyles)
	id.WomanHairLength = u(0.4, 0.55)
	id.ManHair = r.IntN(NumManHairStyles)
	id.HairVolume = r.Float64()
	w := r.Float64()
	for b, bw := range beardWeights {
		if w < bw || b == len(beardWeights)-1 {
			id.Beard = BeardStyle(b)
			break
		}
		w -= bw
	}

	id.OffsetX = u(-0.025, 0.025)
	id.OffsetY = u(-0.025, 0.025)
	id.Scale = u(0.93, 1.07)
	id.Roll = u(-0.07, 0.07)

	id.Brightness = u(0.88, 1.08)
	id.LightAngle = u(0, 2*math.Pi)
	id.LightStrength = u(0, 0.2)

	// Draw backgrounds until one stands out from the hair, so that the hair
	// outline (the main difference between the domains) stays visible.
	best := -1.0
	for range 30 {
		h, s, v := u(0, 360), u(0.08, 0.45), u(0.45, 0.92)
		top := hsv(h, s, v)
		bot := top
		if r.IntN(2) == 0 {
			bot = hsv(math.Mod(h+u(-30, 30)+360, 360), s, clamp(v+u(-0.3, 0.2), 0.3, 0.95))
		}
		d := min(distance(top, id.Hair), distance(bot, id.Hair))
		if d > best {
			best, id.BackgroundTop, id.BackgroundBottom = d, top, bot
		}
		if d >= minHairContrast {
			break
		}
	}
	return id
}

// minHairContrast is the smallest RGB distance between hair and background
// that NewIdentity aims for.
const minHairContrast = 110

// distance returns the Euclidean distance of two colours in RGB space.
func distance(a, b color.NRGBA) float64 {
	dr, dg, db := float64(a.R)-float64(b.R), float64(a.G)-float64(b.G), float64(a.B)-float64(b.B)
	return math.Sqrt(dr*dr + dg*dg + db*db)
}

func jitter(r *rand.Rand, c color.NRGBA, amount int) color.NRGBA {
	j := func(v uint8) uint8 {
		return uint8(clamp(float64(int(v)+r.IntN(2*amount+1)-amount), 0, 255))
	}
	return color.NRGBA{j(c.R), j(c.G), j(c.B), 255}
}

func lerpNRGBA(a, b color.NRGBA, t float64) color.NRGBA {
	l := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + (float64(y)-float64(x))*t)) }
	return color.NRGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}

// hsv converts hue in degrees, saturation and value in [0, 1] to a colour.
func hsv(h, s, v float64) color.NRGBA {
	c := v * s
	hp := h / 60
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	f := func(x float64) uint8 { return uint8(math.Round(clamp((x+m)*255, 0, 255))) }
	return color.NRGBA{f(r), f(g), f(b), 255}
}

func clamp(x, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, x))
}
