package graph

import (
	"testing"

	"cyclegan/internal/pycheck"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

func TestSummaryWriterEventsReadBackInTensorFlow(t *testing.T) {
	b := NewBuilder(tf.Float, 1)
	w := NewSummaryWriter(b, "summary", []string{"loss/G", "lr"})
	sess := newSession(t, b)
	dir := t.TempDir()
	if err := w.Open(sess, dir); err != nil {
		t.Fatal(err)
	}
	for step := int64(1); step <= 3; step++ {
		if err := w.WriteScalars(sess, step, []float32{float32(step) / 2, 2e-4}); err != nil {
			t.Fatal(err)
		}
	}
	img, _ := tf.NewTensor(make([]uint8, 5*7*3))
	img.Reshape([]int64{1, 5, 7, 3})
	if err := w.WriteImage(sess, 3, "samples", img); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(sess); err != nil {
		t.Fatal(err)
	}
	evs, err := pycheck.Events(dir)
	if err != nil {
		t.Fatal(err)
	}
	var scalars, images int
	for _, e := range evs {
		switch {
		case e.Kind == "scalar" && e.Tag == "loss/G":
			scalars++
			if e.Value != float64(e.Step)/2 {
				t.Errorf("loss/G at step %d = %g, want %g", e.Step, e.Value, float64(e.Step)/2)
			}
		case e.Kind == "image" && e.Tag == "samples/image": // TensorFlow appends /image
			images++
			if e.Width != 7 || e.Height != 5 || len(e.Decoded) != 3 || e.Decoded[0] != 5 {
				t.Errorf("image %dx%d decoded %v, want 7x5", e.Width, e.Height, e.Decoded)
			}
		}
	}
	if scalars != 3 || images != 1 {
		t.Fatalf("read back %d loss/G scalars and %d images, want 3 and 1: %+v", scalars, images, evs)
	}
}
