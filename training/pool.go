package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Pool is the paper's image pool (Shrivastava et al.): up to Size past
// fakes, from which the discriminator sees an older translation half of the
// time once the pool is full. Its random choices at a step derive from
// (seed, domain, step) alone, so a resumed run makes the same ones.
type Pool struct {
	Size   int
	imgLen int
	images [][]float32
}

// choice is the pool's decision for one image of a batch.
type choice struct {
	useCurrent bool
	slot       int  // pool slot whose older fake is used (when !useCurrent), or stored into
	store      bool // store the current fake (append when slot == len, else replace)
}

// NewPool makes an empty pool for images of imgLen floats.
func NewPool(size, imgLen int) *Pool { return &Pool{Size: size, imgLen: imgLen} }

// plan decides, for a batch of n, which fakes the discriminator sees, and
// fills old with the pool's images where it sees an older one.
//
// An older fake is one stored before this step: a batch that fills the
// pool's last slots cannot also draw from them, since their fakes do not
// exist until the step has run (the reference, which sees each fake before
// planning the next, may hand one back in the same batch). With no older
// fake stored yet, the current one is used.
func (p *Pool) plan(seed int64, domain string, step int64, n int, old []float32) []choice {
	h := fnv.New64a()
	fmt.Fprintf(h, "pool/%d/%s/%d", seed, domain, step)
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(step)))
	cs := make([]choice, n)
	stored := len(p.images)
	filled := stored
	for i := range cs {
		switch {
		case p.Size == 0:
			cs[i] = choice{useCurrent: true}
		case filled < p.Size:
			cs[i] = choice{useCurrent: true, store: true, slot: filled}
			filled++
		case stored == 0:
			cs[i] = choice{useCurrent: true}
		case r.Float64() > 0.5:
			id := r.IntN(stored)
			cs[i] = choice{slot: id, store: true}
			copy(old[i*p.imgLen:(i+1)*p.imgLen], p.images[id])
		default:
			cs[i] = choice{useCurrent: true}
		}
	}
	return cs
}

// commit stores this step's fakes as planned.
func (p *Pool) commit(cs []choice, fakes []float32) {
	for i, c := range cs {
		if !c.store {
			continue
		}
		img := append([]float32(nil), fakes[i*p.imgLen:(i+1)*p.imgLen]...)
		if c.slot == len(p.images) {
			p.images = append(p.images, img)
		} else {
			p.images[c.slot] = img
		}
	}
}

// MarshalBinary encodes the pool for a checkpoint.
func (p *Pool) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	hdr := []uint32{uint32(p.Size), uint32(p.imgLen), uint32(len(p.images))}
	if err := binary.Write(&buf, binary.LittleEndian, hdr); err != nil {
		return nil, err
	}
	for _, img := range p.images {
		if err := binary.Write(&buf, binary.LittleEndian, img); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary restores a pool written by MarshalBinary; its size and
// image length must match p's.
func (p *Pool) UnmarshalBinary(data []byte) error {
	r := bytes.NewReader(data)
	hdr := make([]uint32, 3)
	if err := binary.Read(r, binary.LittleEndian, hdr); err != nil {
		return fmt.Errorf("image pool: %w", err)
	}
	if int(hdr[0]) != p.Size || int(hdr[1]) != p.imgLen || int(hdr[2]) > p.Size {
		return fmt.Errorf("image pool of %d images of %d values (holding %d) does not fit this run's %d of %d",
			hdr[0], hdr[1], hdr[2], p.Size, p.imgLen)
	}
	if want := 12 + 4*int(hdr[1])*int(hdr[2]); len(data) != want {
		return fmt.Errorf("image pool: %d bytes, want %d", len(data), want)
	}
	p.images = make([][]float32, hdr[2])
	for i := range p.images {
		p.images[i] = make([]float32, p.imgLen)
		if err := binary.Read(r, binary.LittleEndian, p.images[i]); err != nil {
			return fmt.Errorf("image pool: %w", err)
		}
	}
	return nil
}
