package tfserver

import (
	"net"
	"strings"
	"testing"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

func TestParseClusterAcceptsJobsAndRejectsMalformedLists(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "worker=localhost:2222,localhost:2223", want: "worker=localhost:2222,localhost:2223"},
		{in: "worker=a:1;ps=b:2", want: "ps=b:2;worker=a:1"},
		{in: "", err: "no job"},
		{in: "worker", err: "want job=host:port"},
		{in: "worker=localhost", err: "want host:port"},
		{in: "worker=a:1;worker=b:2", err: "given twice"},
	} {
		c, err := ParseCluster(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseCluster(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || c.String() != tc.want {
			t.Errorf("ParseCluster(%q) = %q, %v; want %q", tc.in, c, err, tc.want)
		}
	}
}

func TestDefRejectsTasksOutsideTheCluster(t *testing.T) {
	c := Cluster{"worker": {"a:1", "b:2"}}
	if _, err := c.Def("worker", 2, nil); err == nil || !strings.Contains(err.Error(), "tasks 0-1") {
		t.Errorf("task 2 of 2: error %v", err)
	}
	if _, err := c.Def("ps", 0, nil); err == nil {
		t.Error("a job not in the cluster was accepted")
	}
	def, err := c.Def("worker", 1, nil)
	if err != nil || def.Port != 2 || def.TaskIndex != 1 || def.Protocol != "grpc" {
		t.Errorf("Def(worker, 1) = %v, %v", def, err)
	}
}

// FreePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// The probe the scaling-out design rests on: the wheel's runtime registers
// the gRPC session factory, so a session opened on an in-process server's
// grpc:// target runs ops placed on that task.
func TestSessionRunsOnInProcessGRPCServer(t *testing.T) {
	addr := "localhost:" + freePort(t)
	def, err := Cluster{"worker": {addr}}.Def("worker", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(def)
	if err != nil {
		t.Fatal(err)
	}
	// TF 2.21's gRPC server cannot be stopped ("Clean shutdown is not
	// currently implemented"); it ends with the test process.
	defer srv.Close()
	if srv.Target() != "grpc://"+addr {
		t.Errorf("target %q, want grpc://%s", srv.Target(), addr)
	}
	s := op.NewScope().WithDevice(Device("worker", 0, "CPU:0"))
	y := op.Add(s, op.Const(s.SubScope("x"), int32(41)), op.Const(s.SubScope("one"), int32(1)))
	g, err := s.Finalize()
	if err != nil {
		t.Fatal(err)
	}
	sess, err := tf.NewSession(g, &tf.SessionOptions{Target: srv.Target()})
	if err != nil {
		t.Fatalf("session on %s: %v", srv.Target(), err)
	}
	defer sess.Close()
	out, err := sess.Run(nil, []tf.Output{y}, nil)
	if err != nil {
		t.Fatalf("run on %s: %v", srv.Target(), err)
	}
	if v := out[0].Value().(int32); v != 42 {
		t.Errorf("41+1 on the server = %d", v)
	}
}
