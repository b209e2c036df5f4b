package main

import (
	"testing"
)

func TestPoolFillsThenReturnsOlderFakesAboutHalfTheTime(t *testing.T) {
	const size, imgLen = 5, 2
	p := NewPool(size, imgLen)
	old := make([]float32, imgLen)
	var older, current int
	for step := int64(0); step < 400; step++ {
		cs := p.plan(1, "woman", step, 1, old)
		c := cs[0]
		switch {
		case step < size:
			if !c.useCurrent || !c.store {
				t.Fatalf("step %d: the pool is filling, want the current fake stored and used: %+v", step, c)
			}
		case c.useCurrent:
			current++
			if c.store {
				t.Fatalf("step %d: a full pool stored a fake it did not swap out", step)
			}
		default:
			older++
			if old[0] != float32(p.images[c.slot][0]) {
				t.Fatalf("step %d: fed %v, not slot %d's image", step, old, c.slot)
			}
		}
		p.commit(cs, []float32{float32(step), float32(step)})
	}
	if older < 150 || current < 150 {
		t.Fatalf("older %d, current %d of 395: want about half each", older, current)
	}
	if len(p.images) != size {
		t.Fatalf("pool holds %d images, want %d", len(p.images), size)
	}
}

func TestPoolChoicesDependOnlyOnSeedAndStep(t *testing.T) {
	a, b := NewPool(2, 1), NewPool(2, 1)
	for _, p := range []*Pool{a, b} {
		p.commit(p.plan(7, "man", 0, 2, make([]float32, 2)), []float32{1, 2})
	}
	for step := int64(1); step < 50; step++ {
		ca := a.plan(7, "man", step, 2, make([]float32, 2))
		cb := b.plan(7, "man", step, 2, make([]float32, 2))
		for i := range ca {
			if ca[i] != cb[i] {
				t.Fatalf("step %d: %+v vs %+v", step, ca, cb)
			}
		}
		a.commit(ca, []float32{float32(step), 0})
		b.commit(cb, []float32{float32(step), 0})
	}
}

func TestPoolRoundTripsThroughACheckpoint(t *testing.T) {
	p := NewPool(3, 2)
	p.commit(p.plan(1, "w", 0, 2, make([]float32, 4)), []float32{1, 2, 3, 4})
	data, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	q := NewPool(3, 2)
	if err := q.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if len(q.images) != 2 || q.images[1][1] != 4 {
		t.Fatalf("restored pool %v", q.images)
	}
	for _, bad := range []struct {
		name string
		p    *Pool
		data []byte
	}{
		{"other size", NewPool(4, 2), data},
		{"other image length", NewPool(3, 3), data},
		{"truncated", NewPool(3, 2), data[:len(data)-3]},
		{"empty", NewPool(3, 2), nil},
	} {
		if err := bad.p.UnmarshalBinary(bad.data); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
}

func TestPoolServesOnlyFakesStoredBeforeTheStepWhateverTheBatch(t *testing.T) {
	for _, tc := range []struct{ size, batch int }{
		{50, 4}, // the last fill leaves two slots for a batch of four
		{5, 3},
		{2, 4}, // the first batch overfills an empty pool
		{1, 2},
		{3, 1},
	} {
		p := NewPool(tc.size, 1)
		old := make([]float32, tc.batch)
		var olderServed int
		for step := int64(0); step < 40; step++ {
			before := map[float32]bool{}
			for _, img := range p.images {
				before[img[0]] = true
			}
			cs := p.plan(1, "man", step, tc.batch, old)
			fakes := make([]float32, tc.batch)
			for i, c := range cs {
				fakes[i] = float32(step*100 + int64(i) + 1)
				if !c.useCurrent {
					olderServed++
					if !before[old[i]] {
						t.Fatalf("pool %d, batch %d, step %d: image %d was fed %v, which the pool did not hold before the step (%v)",
							tc.size, tc.batch, step, i, old[i], p.images)
					}
				}
			}
			p.commit(cs, fakes)
			if len(p.images) > tc.size {
				t.Fatalf("pool %d, batch %d: holds %d images", tc.size, tc.batch, len(p.images))
			}
		}
		if len(p.images) != tc.size || olderServed == 0 {
			t.Errorf("pool %d, batch %d: holds %d images, served %d older fakes; want it full and serving", tc.size, tc.batch, len(p.images), olderServed)
		}
	}
}
