package cyclegan

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"cyclegan/graph"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

func TestDeviceIsPlacedAndSoftPlacementRunsWithoutIt(t *testing.T) {
	const gpu = "/device:GPU:0" // this machine has none
	c := tinyConfig()
	c.Device = gpu
	s, err := NewStep(c, -1, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	placed := 0
	for _, o := range s.B.Graph().Operations() {
		if o.Type() == "Conv2D" && o.Device() == gpu {
			placed++
		}
	}
	if placed == 0 {
		t.Fatalf("no Conv2D op asks for %s", gpu)
	}
	sess, err := s.InitializedSession(graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	r := rand.New(rand.NewSource(1))
	if _, err := sess.Run(s.feeds(t, randBatch(r, 1, 32), 1, 32), s.Losses, []*tf.Operation{s.Train}); err != nil {
		t.Fatalf("a step with the model on %s (absent) failed despite soft placement: %v", gpu, err)
	}

	// The export carries no device: it must load wherever it is served.
	values, err := graph.Values(sess, s.GenVars)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "export")
	if err := Export(dir, c, values); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "saved_model.pb"))
	if err != nil {
		t.Fatal(err)
	}
	var sm corepb.SavedModel
	if err := proto.Unmarshal(data, &sm); err != nil {
		t.Fatal(err)
	}
	for _, n := range sm.MetaGraphs[0].GraphDef.Node {
		if n.Device != "" {
			t.Fatalf("exported node %s keeps device %q", n.Name, n.Device)
		}
	}
}
