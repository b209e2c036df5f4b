package tfrt

// #include <stdlib.h>
// #include <string.h>
// #include <tensorflow/c/c_api.h>
import "C"

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// The Go bindings' Session.Run takes no RunOptions, so a traced run goes
// through TF_SessionRun here, on a copy of the graph (imported from its
// GraphDef) in a session of its own.

// Feed is a tensor fed to a traced run: its type, shape and raw
// little-endian contents (as TensorFlow lays them out).
type Feed struct {
	DType tf.DataType
	Shape []int64
	Data  []byte
}

// OpTime is the time a traced run spent in the ops of one type, summed over
// the nodes and threads that ran them.
type OpTime struct {
	Op     string  `json:"op"`
	Micros int64   `json:"micros"`
	Nodes  int     `json:"nodes"`
	Share  float64 `json:"share"` // of the summed op time of the run
}

// Trace is where one run's time went.
type Trace struct {
	Wall time.Duration // the traced run's wall time
	ByOp []OpTime      // by op type, most time first
}

// TraceRun imports g into a new session configured by config (a serialized
// ConfigProto, as graph.SessionOptions makes), runs the targets init once,
// runs feeds -> targets warmup times untraced, then once with RunOptions
// trace_level FULL_TRACE, and sums the RunMetadata step stats by op type.
func TraceRun(g *tf.Graph, config []byte, init []string, feeds map[string]Feed, targets []string, warmup int) (*Trace, error) {
	var def bytes.Buffer
	if _, err := g.WriteTo(&def); err != nil {
		return nil, fmt.Errorf("trace: graph def: %w", err)
	}
	status := C.TF_NewStatus()
	defer C.TF_DeleteStatus(status)
	check := func(what string) error {
		if C.TF_GetCode(status) != C.TF_OK {
			return fmt.Errorf("trace: %s: %s", what, C.GoString(C.TF_Message(status)))
		}
		return nil
	}
	cg := C.TF_NewGraph()
	defer C.TF_DeleteGraph(cg)
	buf := newBuffer(def.Bytes())
	defer C.TF_DeleteBuffer(buf)
	iopts := C.TF_NewImportGraphDefOptions()
	defer C.TF_DeleteImportGraphDefOptions(iopts)
	C.TF_GraphImportGraphDef(cg, buf, iopts, status)
	if err := check("import graph"); err != nil {
		return nil, err
	}
	sopts := C.TF_NewSessionOptions()
	defer C.TF_DeleteSessionOptions(sopts)
	if len(config) > 0 {
		cc := C.CBytes(config)
		defer C.free(cc)
		C.TF_SetConfig(sopts, cc, C.size_t(len(config)), status)
		if err := check("session config"); err != nil {
			return nil, err
		}
	}
	sess := C.TF_NewSession(cg, sopts, status)
	if err := check("new session"); err != nil {
		return nil, err
	}
	defer func() {
		C.TF_CloseSession(sess, status)
		C.TF_DeleteSession(sess, status)
	}()
	op := func(name string) (*C.TF_Operation, error) {
		cn := C.CString(name)
		defer C.free(unsafe.Pointer(cn))
		o := C.TF_GraphOperationByName(cg, cn)
		if o == nil {
			return nil, fmt.Errorf("trace: no operation %q", name)
		}
		return o, nil
	}
	run := func(inputs []C.TF_Output, values []*C.TF_Tensor, targetNames []string, opts, meta *C.TF_Buffer) error {
		tops := make([]*C.TF_Operation, len(targetNames))
		for i, n := range targetNames {
			o, err := op(n)
			if err != nil {
				return err
			}
			tops[i] = o
		}
		// The arrays are passed to C, so they live in C memory.
		cin := (*C.TF_Output)(C.malloc(C.size_t(max(1, len(inputs))) * C.size_t(unsafe.Sizeof(C.TF_Output{}))))
		defer C.free(unsafe.Pointer(cin))
		cval := (**C.TF_Tensor)(C.malloc(C.size_t(max(1, len(values))) * C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(cval))
		ctgt := (**C.TF_Operation)(C.malloc(C.size_t(max(1, len(tops))) * C.size_t(unsafe.Sizeof(uintptr(0)))))
		defer C.free(unsafe.Pointer(ctgt))
		copy(unsafe.Slice(cin, max(1, len(inputs))), inputs)
		copy(unsafe.Slice(cval, max(1, len(values))), values)
		copy(unsafe.Slice(ctgt, max(1, len(tops))), tops)
		C.TF_SessionRun(sess, opts, cin, cval, C.int(len(inputs)), nil, nil, 0,
			ctgt, C.int(len(tops)), meta, status)
		return check("run " + strings.Join(targetNames, ","))
	}
	if len(init) > 0 {
		if err := run(nil, nil, init, nil, nil); err != nil {
			return nil, err
		}
	}
	var inputs []C.TF_Output
	var values []*C.TF_Tensor
	for name, f := range feeds {
		o, err := op(name)
		if err != nil {
			return nil, err
		}
		t, err := newTensor(f)
		if err != nil {
			return nil, err
		}
		defer C.TF_DeleteTensor(t)
		inputs = append(inputs, C.TF_Output{oper: o, index: 0})
		values = append(values, t)
	}
	for i := 0; i < warmup; i++ {
		if err := run(inputs, values, targets, nil, nil); err != nil {
			return nil, err
		}
	}
	ro, err := proto.Marshal(&corepb.RunOptions{TraceLevel: corepb.RunOptions_FULL_TRACE})
	if err != nil {
		return nil, err
	}
	opts := newBuffer(ro)
	defer C.TF_DeleteBuffer(opts)
	meta := C.TF_NewBuffer()
	defer C.TF_DeleteBuffer(meta)
	start := time.Now()
	if err := run(inputs, values, targets, opts, meta); err != nil {
		return nil, err
	}
	wall := time.Since(start)
	var md corepb.RunMetadata
	if err := proto.Unmarshal(C.GoBytes(meta.data, C.int(meta.length)), &md); err != nil {
		return nil, fmt.Errorf("trace: run metadata: %w", err)
	}
	return summarize(&md, wall), nil
}

// summarize sums the step stats' op durations by op type. A node's type is
// the part of its timeline label after "= " and before "(", as TensorFlow
// writes it ("name = Conv2D(...)").
func summarize(md *corepb.RunMetadata, wall time.Duration) *Trace {
	by := map[string]*OpTime{}
	var total int64
	for _, dev := range md.GetStepStats().GetDevStats() {
		for _, n := range dev.GetNodeStats() {
			typ := n.GetNodeName()
			if _, rest, ok := strings.Cut(n.GetTimelineLabel(), " = "); ok {
				typ, _, _ = strings.Cut(rest, "(")
			}
			d := n.GetAllEndRelMicros()
			o := by[typ]
			if o == nil {
				o = &OpTime{Op: typ}
				by[typ] = o
			}
			o.Micros += d
			o.Nodes++
			total += d
		}
	}
	t := &Trace{Wall: wall}
	for _, o := range by {
		if total > 0 {
			o.Share = float64(o.Micros) / float64(total)
		}
		t.ByOp = append(t.ByOp, *o)
	}
	sort.Slice(t.ByOp, func(i, j int) bool { return t.ByOp[i].Micros > t.ByOp[j].Micros })
	return t
}

func newBuffer(b []byte) *C.TF_Buffer {
	cb := C.CBytes(b)
	defer C.free(cb)
	return C.TF_NewBufferFromString(cb, C.size_t(len(b)))
}

func newTensor(f Feed) (*C.TF_Tensor, error) {
	n := int64(1)
	for _, d := range f.Shape {
		n *= d
	}
	var dims *C.int64_t
	if len(f.Shape) > 0 {
		dims = (*C.int64_t)(unsafe.Pointer(&f.Shape[0]))
	}
	t := C.TF_AllocateTensor(C.TF_DataType(f.DType), dims, C.int(len(f.Shape)), C.size_t(len(f.Data)))
	if t == nil {
		return nil, fmt.Errorf("trace: allocate %v tensor %v", f.DType, f.Shape)
	}
	if int(C.TF_TensorByteSize(t)) != len(f.Data) {
		C.TF_DeleteTensor(t)
		return nil, fmt.Errorf("trace: %v tensor %v of %d elements: %d bytes given", f.DType, f.Shape, n, len(f.Data))
	}
	if len(f.Data) > 0 {
		C.memcpy(C.TF_TensorData(t), unsafe.Pointer(&f.Data[0]), C.size_t(len(f.Data)))
	}
	return t, nil
}
