// Package serving loads the exported CycleGAN SavedModel for inference and
// translates images with it, resolving tensors from the SignatureDefs. The
// converter and the evaluation tool both use it.
package serving

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/imageio"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	typespb "github.com/galeone/tensorflow/tensorflow/go/core/framework/types_go_proto"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// Directions are the translations an exported model offers, by signature name.
var Directions = []string{cyclegan.SigWoman2Man, cyclegan.SigMan2Woman}

// MinSide is the smallest width or height the exported graph accepts.
const MinSide = cyclegan.MinSide

// Model is an exported CycleGAN loaded for inference, with the input and
// output tensors of each requested direction resolved from its SignatureDefs.
// Translate may be called from several goroutines at once.
type Model struct {
	dir  string
	sm   *tf.SavedModel
	sigs map[string]sigIO
}

// sigIO is one signature's input and output tensor.
type sigIO struct{ in, out tf.Output }

// LoadModel loads the SavedModel in dir (tag "serve") for the given
// directions. Before TensorFlow sees the directory, saved_model.pb is read
// and checked here, so that a missing or corrupt model, or one without a
// requested direction, is an error that says what is wrong and, for a missing
// direction, lists the signatures the model does offer.
func LoadModel(dir string, directions []string, cfg graph.SessionConfig) (*Model, error) {
	mg, err := readMetaGraph(dir)
	if err != nil {
		return nil, err
	}
	offered := slices.Sorted(maps.Keys(mg.GetSignatureDef()))
	for _, d := range directions {
		sd, ok := mg.GetSignatureDef()[d]
		if !ok {
			return nil, fmt.Errorf("model %s has no %s signature; it offers: %s", dir, d, listOrNone(offered))
		}
		if err := checkSignature(sd); err != nil {
			return nil, fmt.Errorf("model %s: signature %s: %w", dir, d, err)
		}
	}
	if err := checkVariables(dir, mg); err != nil {
		return nil, err
	}
	opts, err := graph.SessionOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	sm, err := tf.LoadSavedModel(dir, []string{graph.ServeTag}, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	m := &Model{dir: dir, sm: sm, sigs: map[string]sigIO{}}
	for _, d := range directions {
		s, ok := sm.Signatures[d]
		if !ok { // checked above; TensorFlow disagreeing is still no panic
			m.Close()
			return nil, fmt.Errorf("model %s has no %s signature", dir, d)
		}
		in, err := m.output(s.Inputs[cyclegan.IOKey].Name)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("model %s: signature %s input: %w", dir, d, err)
		}
		out, err := m.output(s.Outputs[cyclegan.IOKey].Name)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("model %s: signature %s output: %w", dir, d, err)
		}
		m.sigs[d] = sigIO{in: in, out: out}
	}
	// One small run per direction, so that a model that loads but cannot
	// run fails here, once, rather than on every image.
	probe := image.NewNRGBA(image.Rect(0, 0, MinSide, MinSide))
	for i := range probe.Pix {
		probe.Pix[i] = 128
	}
	for _, d := range directions {
		if _, err := m.Translate(d, []*image.NRGBA{probe}); err != nil {
			m.Close()
			return nil, fmt.Errorf("model %s loads but does not run: %w", dir, err)
		}
	}
	return m, nil
}

// checkVariables checks that a model whose graph has variables has the
// checkpoint holding their values: TensorFlow itself loads a SavedModel
// whose variables/ folder is missing, and fails only when it runs.
func checkVariables(dir string, mg *corepb.MetaGraphDef) error {
	vars := len(mg.GetCollectionDef()["variables"].GetBytesList().GetValue())
	if vars == 0 {
		return nil
	}
	index := filepath.Join(dir, "variables", "variables.index")
	if _, err := os.Stat(index); err != nil {
		return fmt.Errorf("model %s is incomplete: its graph has %d variables but %s is missing (%w)", dir, vars, index, err)
	}
	return nil
}

// readMetaGraph reads dir/saved_model.pb and returns its "serve" MetaGraph.
func readMetaGraph(dir string) (*corepb.MetaGraphDef, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("model %s does not exist: train one with `go run ./training` (it exports runs/woman2man/export) or pass -model", dir)
	case err != nil:
		return nil, fmt.Errorf("model %s: %w", dir, err)
	case !st.IsDir():
		return nil, fmt.Errorf("model %s is not a directory: -model names a SavedModel directory (holding saved_model.pb and variables/)", dir)
	}
	pbPath := filepath.Join(dir, "saved_model.pb")
	data, err := os.ReadFile(pbPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("model %s is not a SavedModel: it has no saved_model.pb", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	var sm corepb.SavedModel
	if err := proto.Unmarshal(data, &sm); err != nil {
		return nil, fmt.Errorf("model %s: saved_model.pb is corrupt: %w", dir, err)
	}
	var tags []string
	for _, mg := range sm.GetMetaGraphs() {
		if slices.Contains(mg.GetMetaInfoDef().GetTags(), graph.ServeTag) {
			if mg.GetGraphDef() == nil {
				return nil, fmt.Errorf("model %s: saved_model.pb is corrupt: the %q MetaGraph has no graph", dir, graph.ServeTag)
			}
			return mg, nil
		}
		tags = append(tags, strings.Join(mg.GetMetaInfoDef().GetTags(), ","))
	}
	if len(sm.GetMetaGraphs()) == 0 {
		return nil, fmt.Errorf("model %s: saved_model.pb is corrupt or empty: it holds no MetaGraph", dir)
	}
	return nil, fmt.Errorf("model %s has no MetaGraph tagged %q; it offers tags: %s", dir, graph.ServeTag, listOrNone(tags))
}

// checkSignature checks that a signature takes and returns uint8 images.
func checkSignature(sd *corepb.SignatureDef) error {
	for _, side := range []struct {
		what string
		m    map[string]*corepb.TensorInfo
	}{{"input", sd.GetInputs()}, {"output", sd.GetOutputs()}} {
		ti, ok := side.m[cyclegan.IOKey]
		if !ok {
			return fmt.Errorf("no %s %q (it has: %s)", side.what, cyclegan.IOKey, listOrNone(slices.Sorted(maps.Keys(side.m))))
		}
		if ti.GetDtype() != typespb.DataType_DT_UINT8 {
			return fmt.Errorf("%s %q is %v, want uint8 images", side.what, cyclegan.IOKey, ti.GetDtype())
		}
		if ti.GetName() == "" {
			return fmt.Errorf("%s %q has no tensor name", side.what, cyclegan.IOKey)
		}
	}
	return nil
}

// output resolves a tensor name such as "woman2man/images:0" in the graph.
func (m *Model) output(name string) (tf.Output, error) {
	opName, idx := name, 0
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil {
			return tf.Output{}, fmt.Errorf("bad tensor name %q", name)
		}
		opName, idx = name[:i], n
	}
	op := m.sm.Graph.Operation(opName)
	if op == nil {
		return tf.Output{}, fmt.Errorf("tensor %q: no operation %q in the graph", name, opName)
	}
	if idx < 0 || idx >= op.NumOutputs() {
		return tf.Output{}, fmt.Errorf("tensor %q: operation has %d outputs", name, op.NumOutputs())
	}
	return op.Output(idx), nil
}

// Has reports whether the model was loaded with direction d.
func (m *Model) Has(d string) bool {
	_, ok := m.sigs[d]
	return ok
}

// Directions lists the loaded directions, sorted.
func (m *Model) Directions() []string { return slices.Sorted(maps.Keys(m.sigs)) }

// Translate runs direction d on imgs, which must all have the same size (at
// least MinSide on each side), in one session run, and returns the
// translated images, of the same size, in order.
func (m *Model) Translate(d string, imgs []*image.NRGBA) ([]*image.NRGBA, error) {
	s, ok := m.sigs[d]
	if !ok {
		return nil, fmt.Errorf("translate: direction %q not loaded (have %s)", d, strings.Join(m.Directions(), ", "))
	}
	if len(imgs) == 0 {
		return nil, nil
	}
	w, h := imgs[0].Rect.Dx(), imgs[0].Rect.Dy()
	if w < MinSide || h < MinSide {
		return nil, fmt.Errorf("translate: %dx%d is smaller than %dx%d", w, h, MinSide, MinSide)
	}
	size := imageio.Channels * w * h
	px := make([]byte, len(imgs)*size)
	for i, img := range imgs {
		if img.Rect.Dx() != w || img.Rect.Dy() != h {
			return nil, fmt.Errorf("translate: image %d is %dx%d, the batch is %dx%d", i, img.Rect.Dx(), img.Rect.Dy(), w, h)
		}
		if err := imageio.ToUint8(px[i*size:(i+1)*size], img); err != nil {
			return nil, fmt.Errorf("translate: %w", err)
		}
	}
	shape := []int64{int64(len(imgs)), int64(h), int64(w), imageio.Channels}
	x, err := tf.ReadTensor(tf.Uint8, shape, bytes.NewReader(px))
	if err != nil {
		return nil, fmt.Errorf("translate: input tensor: %w", err)
	}
	res, err := m.sm.Session.Run(map[tf.Output]*tf.Tensor{s.in: x}, []tf.Output{s.out}, nil)
	if err != nil {
		return nil, fmt.Errorf("translate %s: %w", d, err)
	}
	y := res[0]
	if y.DataType() != tf.Uint8 || !slices.Equal(y.Shape(), shape) {
		return nil, fmt.Errorf("translate %s: model returned %v %v, want uint8 %v", d, y.DataType(), y.Shape(), shape)
	}
	var buf bytes.Buffer
	buf.Grow(len(px))
	if _, err := y.WriteContentsTo(&buf); err != nil {
		return nil, fmt.Errorf("translate %s: read output: %w", d, err)
	}
	if buf.Len() != len(px) {
		return nil, fmt.Errorf("translate %s: output has %d bytes, want %d", d, buf.Len(), len(px))
	}
	out := make([]*image.NRGBA, len(imgs))
	for i := range out {
		if out[i], err = imageio.FromUint8(buf.Bytes()[i*size:(i+1)*size], w, h); err != nil {
			return nil, fmt.Errorf("translate %s: %w", d, err)
		}
	}
	return out, nil
}

// Close releases the session.
func (m *Model) Close() error {
	if m.sm == nil || m.sm.Session == nil {
		return nil
	}
	err := m.sm.Session.Close()
	m.sm.Session = nil
	return err
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// OfferedDirections returns the directions the model in dir has, or an
// error listing what it offers when it has neither.
func OfferedDirections(dir string) ([]string, error) {
	mg, err := readMetaGraph(dir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, d := range Directions {
		if _, ok := mg.GetSignatureDef()[d]; ok {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("model %s has neither a %s nor a %s signature; it offers: %s", dir,
			Directions[0], Directions[1], listOrNone(slices.Sorted(maps.Keys(mg.GetSignatureDef()))))
	}
	return dirs, nil
}
