package faces

// Unseen returns id with the features that only a rendering as g draws
// taken from other: the features a translator into g cannot read from id's
// rendering as the other gender, because that rendering does not draw them.
// They are, for a [Man], the short hairstyle (ManHair) and the facial hair
// (Beard); for a [Woman], the long hairstyle (WomanHair), its length
// (WomanHairLength) and the lip colour (Lips; a man's lips are a blend of
// his skin and a neutral tone). Every other feature is id's.
//
// So Render(Unseen(id, g, other), g.Other(), n) draws the same image as
// Render(id, g.Other(), n), and over others drawn by [NewIdentity], the
// renderings Render(Unseen(id, g, other), g, n) are the counterparts as g
// that id's rendering as the other gender is equally consistent with.
// Features that a rendering draws only in part (a jaw under a full beard)
// count as seen.
func Unseen(id Identity, g Gender, other Identity) Identity {
	switch g {
	case Man:
		id.ManHair, id.Beard = other.ManHair, other.Beard
	case Woman:
		id.WomanHair, id.WomanHairLength, id.Lips = other.WomanHair, other.WomanHairLength, other.Lips
	}
	return id
}

// Other returns the other gender of g.
func (g Gender) Other() Gender {
	if g == Woman {
		return Man
	}
	return Woman
}
