package tfrt

import (
	"encoding/binary"
	"math"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

func TestTraceRunAttributesTheTimeToTheOpsThatRan(t *testing.T) {
	s := op.NewScope()
	x := op.Placeholder(s.SubScope("x"), tf.Float, op.PlaceholderShape(tf.MakeShape(256, 256)))
	y := op.MatMul(s, x, x)
	sum := op.Sum(s, y, op.Const(s.SubScope("axes"), []int32{0, 1}))
	g, err := s.Finalize()
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 4*256*256)
	for i := 0; i < 256*256; i++ {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(i%7)))
	}
	tr, err := TraceRun(g, nil, nil, map[string]Feed{x.Op.Name(): {DType: tf.Float, Shape: []int64{256, 256}, Data: data}},
		[]string{sum.Op.Name()}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var share float64
	found := false
	for _, o := range tr.ByOp {
		share += o.Share
		// With oneDNN on, TensorFlow rewrites MatMul to _MklMatMul; the
		// trace names the kernel that ran.
		want := "MatMul"
		if OneDNNEnabled() {
			want = "_MklMatMul"
		}
		if o.Op == want && o.Nodes == 1 && o.Micros > 0 {
			found = true
		}
	}
	if !found || math.Abs(share-1) > 1e-9 || tr.Wall <= 0 {
		t.Errorf("trace %+v: want a timed MatMul node and shares summing to 1", tr)
	}
	if _, err := TraceRun(g, nil, nil, nil, []string{"no_such_op"}, 0); err == nil {
		t.Error("a run of a missing target gave no error")
	}
}
