// Package tfserver runs one task of a TensorFlow cluster in this process:
// TensorFlow's own gRPC server (TF_NewServer and friends from the C API),
// which a session opened on its Target drives, and which other processes'
// sessions place work on. It adds no runtime of its own.
package tfserver

// #cgo LDFLAGS: -ltensorflow -ltensorflow_framework
// #include <stdlib.h>
// #include <tensorflow/c/c_api.h>
import "C"

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// Cluster maps a job name to its tasks' host:port addresses, in task order.
type Cluster map[string][]string

// ParseCluster reads "job=host:port,host:port[;job2=...]", e.g.
// "worker=localhost:2222,localhost:2223".
func ParseCluster(s string) (Cluster, error) {
	c := Cluster{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		job, list, ok := strings.Cut(part, "=")
		if !ok || job == "" || list == "" {
			return nil, fmt.Errorf("cluster %q: want job=host:port,host:port", s)
		}
		if _, dup := c[job]; dup {
			return nil, fmt.Errorf("cluster %q: job %s given twice", s, job)
		}
		for _, addr := range strings.Split(list, ",") {
			addr = strings.TrimSpace(addr)
			if _, port, ok := strings.Cut(addr, ":"); !ok || port == "" {
				return nil, fmt.Errorf("cluster %q: address %q: want host:port", s, addr)
			}
			c[job] = append(c[job], addr)
		}
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("cluster %q: no job", s)
	}
	return c, nil
}

// String is the inverse of ParseCluster (jobs sorted by name).
func (c Cluster) String() string {
	jobs := make([]string, 0, len(c))
	for j := range c {
		jobs = append(jobs, j)
	}
	sort.Strings(jobs)
	parts := make([]string, len(jobs))
	for i, j := range jobs {
		parts[i] = j + "=" + strings.Join(c[j], ",")
	}
	return strings.Join(parts, ";")
}

// Device names task's device dev (e.g. "CPU:0") in the cluster's namespace.
func Device(job string, task int, dev string) string {
	return fmt.Sprintf("/job:%s/replica:0/task:%d/device:%s", job, task, dev)
}

// Def returns the ServerDef of task index task of job in c, speaking gRPC,
// whose sessions use config (a serialized ConfigProto, may be nil).
func (c Cluster) Def(job string, task int, config []byte) (*corepb.ServerDef, error) {
	addrs, ok := c[job]
	if !ok {
		return nil, fmt.Errorf("job %q is not in cluster %s", job, c)
	}
	if task < 0 || task >= len(addrs) {
		return nil, fmt.Errorf("task %d of job %s: the cluster has tasks 0-%d", task, job, len(addrs)-1)
	}
	cd := &corepb.ClusterDef{}
	jobs := make([]string, 0, len(c))
	for j := range c {
		jobs = append(jobs, j)
	}
	sort.Strings(jobs)
	for _, j := range jobs {
		jd := &corepb.JobDef{Name: j, Tasks: map[int32]string{}}
		for i, a := range c[j] {
			jd.Tasks[int32(i)] = a
		}
		cd.Job = append(cd.Job, jd)
	}
	def := &corepb.ServerDef{Cluster: cd, JobName: job, TaskIndex: int32(task), Protocol: "grpc"}
	if _, port, _ := strings.Cut(addrs[task], ":"); port != "" {
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("task %d of job %s: port %q: %w", task, job, port, err)
		}
		def.Port = int32(p)
	}
	if config != nil {
		cfg := &corepb.ConfigProto{}
		if err := proto.Unmarshal(config, cfg); err != nil {
			return nil, fmt.Errorf("session config: %w", err)
		}
		def.DefaultSessionConfig = cfg
	}
	return def, nil
}

// Server is one started in-process TensorFlow server.
type Server struct {
	c      *C.TF_Server
	target string
}

// Start creates and starts the server described by def.
func Start(def *corepb.ServerDef) (*Server, error) {
	buf, err := proto.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("server def: %w", err)
	}
	st := C.TF_NewStatus()
	defer C.TF_DeleteStatus(st)
	p := C.CBytes(buf)
	defer C.free(p)
	srv := C.TF_NewServer(p, C.size_t(len(buf)), st)
	if err := statusErr(st); err != nil {
		return nil, fmt.Errorf("new server /job:%s/task:%d: %w", def.JobName, def.TaskIndex, err)
	}
	C.TF_ServerStart(srv, st)
	if err := statusErr(st); err != nil {
		C.TF_DeleteServer(srv)
		return nil, fmt.Errorf("start server /job:%s/task:%d: %w", def.JobName, def.TaskIndex, err)
	}
	return &Server{c: srv, target: C.GoString(C.TF_ServerTarget(srv))}, nil
}

// Target is the server's session target, "grpc://host:port".
func (s *Server) Target() string { return s.target }

// Join blocks until the server stops.
func (s *Server) Join() error {
	st := C.TF_NewStatus()
	defer C.TF_DeleteStatus(st)
	C.TF_ServerJoin(s.c, st)
	if err := statusErr(st); err != nil {
		return fmt.Errorf("join server %s: %w", s.target, err)
	}
	return nil
}

// Close stops the server (when the runtime supports stopping) and frees it.
// It returns the stop error, if any: the gRPC server cannot be stopped in
// some TensorFlow releases, and then the port stays in use until exit.
func (s *Server) Close() error {
	if s.c == nil {
		return nil
	}
	st := C.TF_NewStatus()
	defer C.TF_DeleteStatus(st)
	C.TF_ServerStop(s.c, st)
	err := statusErr(st)
	if err == nil {
		C.TF_DeleteServer(s.c)
		s.c = nil
		return nil
	}
	return fmt.Errorf("stop server %s: %w", s.target, err)
}

func statusErr(st *C.TF_Status) error {
	if C.TF_GetCode(st) == C.TF_OK {
		return nil
	}
	return errors.New(C.GoString(C.TF_Message(st)))
}
