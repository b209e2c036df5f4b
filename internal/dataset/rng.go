package dataset

import "math/bits"

// Counter-based randomness. Every random decision is a pure function of the
// seed and of where it is used (a purpose tag plus epoch, step, slot and
// domain), hashed with the SplitMix64 finaliser. Nothing depends on which
// goroutine runs first or on how many draws happened before, which is what
// makes batches reproducible with any number of workers and from any resume
// point. The algorithm is spelled out here rather than taken from math/rand
// so that the sequence can never change under us with a Go release.

const golden = 0x9e3779b97f4a7c15 // 2^64 / phi, the SplitMix64 increment

// Purpose tags keep the streams of different uses apart.
const (
	tagPermutation uint64 = iota + 1
	tagSample
)

// mix64 is the SplitMix64 output function, a bijective 64-bit hash.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// streamKey hashes the seed and up to five words into a stream key.
func streamKey(seed int64, words [5]uint64) uint64 {
	h := mix64(uint64(seed) + golden)
	for _, w := range words {
		h = mix64(h ^ mix64(w+golden))
	}
	return h
}

// stream is a SplitMix64 generator: draw i is mix64(key + i*golden).
type stream struct {
	key, ctr uint64
}

func newStream(seed int64, words [5]uint64) stream {
	return stream{key: streamKey(seed, words)}
}

func (s *stream) next() uint64 {
	s.ctr++
	return mix64(s.key + s.ctr*golden)
}

// intn returns a uniform integer in [0, n) for n > 0 (Lemire's
// multiply-and-reject method, so there is no modulo bias).
func (s *stream) intn(n int) int {
	bound := uint64(n)
	hi, lo := bits.Mul64(s.next(), bound)
	if lo < bound {
		thresh := -bound % bound
		for lo < thresh {
			hi, lo = bits.Mul64(s.next(), bound)
		}
	}
	return int(hi)
}

// permutation returns a uniformly random permutation of [0, n) drawn from s
// (Fisher-Yates).
func (s *stream) permutation(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := s.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
