package cyclegan

import (
	"math/rand"
	"testing"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

func TestBF16SessionAsksGrapplerForOneDNNBFloat16AndKeepsVariablesFloat32(t *testing.T) {
	for _, bf16 := range []bool{false, true} {
		opts, err := graph.SessionOptions(graph.SessionConfig{BF16: bf16})
		if err != nil {
			t.Fatal(err)
		}
		var cfg corepb.ConfigProto
		if err := proto.Unmarshal(opts.Config, &cfg); err != nil {
			t.Fatal(err)
		}
		got := cfg.GetGraphOptions().GetRewriteOptions().GetAutoMixedPrecisionOnednnBfloat16()
		want := corepb.RewriterConfig_DEFAULT
		if bf16 {
			want = corepb.RewriterConfig_ON
		}
		if got != want {
			t.Errorf("BF16 %v: auto_mixed_precision_onednn_bfloat16 is %v, want %v", bf16, got, want)
		}
	}

	// The rewrite changes compute ops only: a step run in such a session
	// leaves every weight and optimizer slot float32.
	s, sess := initializedStep(t, tinyConfig(), -1, 32, 1, graph.SessionConfig{BF16: true})
	r := rand.New(rand.NewSource(1))
	if _, err := sess.Run(s.feeds(t, randBatch(r, 1, 32), 1, 32), s.Losses, []*tf.Operation{s.Train}); err != nil {
		t.Fatal(err)
	}
	vars := s.B.Variables()
	values, err := graph.Values(sess, vars)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if v.DType != tf.Float || values[v.Name].DataType() != tf.Float {
			t.Errorf("variable %s is %v (value %v), want float32", v.Name, v.DType, values[v.Name].DataType())
		}
	}
}
