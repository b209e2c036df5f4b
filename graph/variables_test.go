package graph

import (
	"strings"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

func TestBuildingANetworkTwiceSharesItsVariables(t *testing.T) {
	b := NewBuilder(tf.Float, 1)
	x := b.Placeholder("x", tf.Float, 1, 6, 6, 3)
	once := smallNet(b, x)
	n := len(b.Variables())
	twice := smallNet(b, once) // the same net applied to its own output
	if got := len(b.Variables()); got != n {
		t.Fatalf("second application made %d new variables", got-n)
	}
	if once.Op.Name() == twice.Op.Name() {
		t.Fatal("the two applications share ops")
	}
	for _, v := range b.Variables() {
		if !strings.HasPrefix(v.Name, "net/") {
			t.Errorf("variable %s is not under net/", v.Name)
		}
	}
	// One Read per variable: its gradient sums both applications.
	grads, err := b.Gradients("g", b.MeanAll(twice), b.TrainableUnder("net"))
	if err != nil {
		t.Fatal(err)
	}
	if len(grads) != n {
		t.Fatalf("%d gradients for %d variables", len(grads), n)
	}
}

func TestAskingAVariableAgainWithAnotherShapeFails(t *testing.T) {
	b := NewBuilder(tf.Float, 1)
	b.Sub("layer").Variable("kernel", []int64{3, 3}, Zeros())
	b.Sub("layer").Variable("kernel", []int64{3, 4}, Zeros())
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "layer/kernel") {
		t.Fatalf("Err() = %v, want one naming layer/kernel", err)
	}
}

func TestALayerOnAnUnknownChannelCountFailsWithoutPanicking(t *testing.T) {
	b := NewBuilder(tf.Float, 1)
	x := b.Placeholder("x", tf.Float, -1, -1, -1, -1)
	y := b.Conv2D("c", x, Conv{Filters: 2, Kernel: 3})
	y = b.InstanceNorm("n", y, false) // must not panic on the failed conv
	b.ReLU(y)
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "channel") {
		t.Fatalf("Err() = %v, want one about the unknown channel count", err)
	}
}
