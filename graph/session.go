package graph

import (
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// SessionConfig is what the project sets in a session's ConfigProto.
type SessionConfig struct {
	// IntraOpThreads and InterOpThreads size the runtime's thread pools;
	// 0 lets TensorFlow pick from the cores present.
	IntraOpThreads, InterOpThreads int
	// CPUDevices, when above 1, makes that many logical CPU devices.
	CPUDevices int
	// Target, when set, is the grpc:// address of the TensorFlow server
	// (internal/tfserver) whose cluster the session runs on; "" runs it in
	// this process.
	Target string
	// BF16 turns on grappler's auto_mixed_precision_onednn_bfloat16: the
	// oneDNN bfloat16 rewrite of the compute ops, while variables (and so
	// the weights and the optimizer's state) stay float32. Only for CPUs
	// with bf16 arithmetic (see internal/precision).
	BF16 bool
}

// SessionOptions returns options with soft placement on (ops pinned to a
// device the runtime lacks fall back to one it has, so a GPU device string
// works on a CPU-only runtime), c's thread counts and, with c.BF16, the
// bfloat16 rewrite.
func SessionOptions(c SessionConfig) (*tf.SessionOptions, error) {
	cfg := &corepb.ConfigProto{
		AllowSoftPlacement:        true,
		IntraOpParallelismThreads: int32(c.IntraOpThreads),
		InterOpParallelismThreads: int32(c.InterOpThreads),
	}
	if c.BF16 {
		cfg.GraphOptions = &corepb.GraphOptions{RewriteOptions: &corepb.RewriterConfig{
			AutoMixedPrecisionOnednnBfloat16: corepb.RewriterConfig_ON}}
	}
	if c.CPUDevices > 1 {
		cfg.DeviceCount = map[string]int32{"CPU": int32(c.CPUDevices)}
	}
	buf, err := proto.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("session config: %w", err)
	}
	return &tf.SessionOptions{Target: c.Target, Config: buf}, nil
}

// NewSession finalizes nothing (the graph stays open for more ops) and opens
// a session on b's graph with c.
func (b *Builder) NewSession(c SessionConfig) (*tf.Session, error) {
	if err := b.Err(); err != nil {
		return nil, err
	}
	opts, err := SessionOptions(c)
	if err != nil {
		return nil, err
	}
	sess, err := tf.NewSession(b.g, opts)
	if err != nil {
		if c.Target != "" {
			return nil, fmt.Errorf("new session on %s: %w", c.Target, err)
		}
		return nil, fmt.Errorf("new session: %w", err)
	}
	return sess, nil
}
