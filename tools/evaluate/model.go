package main

import (
	"bytes"
	"fmt"
	"image"
	"slices"
	"strconv"
	"strings"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/imageio"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// The two directions, by signature name.
const (
	dirWoman2Man = cyclegan.SigWoman2Man
	dirMan2Woman = cyclegan.SigMan2Woman
)

// translateBatch is how many images one session run translates.
const translateBatch = 20

// model is an exported CycleGAN's SavedModel with the input and output
// tensors of both directions resolved from its signatures.
type model struct {
	sm  *tf.SavedModel
	ios map[string][2]tf.Output // direction -> {input, output}
}

// loadModel loads the SavedModel in dir (tag "serve") and finds the
// "images" input and output of the woman2man and man2woman signatures.
func loadModel(dir string, cfg graph.SessionConfig) (*model, error) {
	opts, err := graph.SessionOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", dir, err)
	}
	sm, err := tf.LoadSavedModel(dir, []string{graph.ServeTag}, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %s (want a SavedModel directory, e.g. runs/woman2man/export): %w", dir, err)
	}
	m := &model{sm: sm, ios: map[string][2]tf.Output{}}
	for _, d := range directionOrder {
		sig, ok := sm.Signatures[d]
		if !ok {
			m.close()
			return nil, fmt.Errorf("model %s has no %s signature", dir, d)
		}
		in, ok1 := sig.Inputs[cyclegan.IOKey]
		out, ok2 := sig.Outputs[cyclegan.IOKey]
		if !ok1 || !ok2 {
			m.close()
			return nil, fmt.Errorf("model %s: signature %s lacks the %q input or output", dir, d, cyclegan.IOKey)
		}
		var io [2]tf.Output
		for i, name := range []string{in.Name, out.Name} {
			if io[i], err = m.tensor(name); err != nil {
				m.close()
				return nil, fmt.Errorf("model %s: signature %s: %w", dir, d, err)
			}
		}
		m.ios[d] = io
	}
	return m, nil
}

// tensor finds the graph tensor named like "woman2man/images:0".
func (m *model) tensor(name string) (tf.Output, error) {
	opName, idx := name, 0
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil {
			return tf.Output{}, fmt.Errorf("tensor name %q: bad output index", name)
		}
		opName, idx = name[:i], n
	}
	o := m.sm.Graph.Operation(opName)
	if o == nil || idx < 0 || idx >= o.NumOutputs() {
		return tf.Output{}, fmt.Errorf("tensor %q is not in the graph", name)
	}
	return o.Output(idx), nil
}

// translate runs direction d on imgs (all of one size), translateBatch
// images per session run, and returns the translations in order.
func (m *model) translate(d string, imgs []*image.NRGBA) ([]*image.NRGBA, error) {
	io, ok := m.ios[d]
	if !ok {
		return nil, fmt.Errorf("translate: unknown direction %q", d)
	}
	out := make([]*image.NRGBA, 0, len(imgs))
	for start := 0; start < len(imgs); start += translateBatch {
		batch := imgs[start:min(start+translateBatch, len(imgs))]
		res, err := m.run(d, io, batch)
		if err != nil {
			return nil, fmt.Errorf("translate %s, images %d-%d: %w", d, start, start+len(batch)-1, err)
		}
		out = append(out, res...)
	}
	return out, nil
}

// run translates one batch in one session run.
func (m *model) run(d string, io [2]tf.Output, imgs []*image.NRGBA) ([]*image.NRGBA, error) {
	w, h := imgs[0].Rect.Dx(), imgs[0].Rect.Dy()
	size := imageio.Channels * w * h
	px := make([]byte, len(imgs)*size)
	for i, img := range imgs {
		if img.Rect.Dx() != w || img.Rect.Dy() != h {
			return nil, fmt.Errorf("image %d is %dx%d, the others %dx%d", i, img.Rect.Dx(), img.Rect.Dy(), w, h)
		}
		if err := imageio.ToUint8(px[i*size:(i+1)*size], img); err != nil {
			return nil, err
		}
	}
	shape := []int64{int64(len(imgs)), int64(h), int64(w), imageio.Channels}
	x, err := tf.ReadTensor(tf.Uint8, shape, bytes.NewReader(px))
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	res, err := m.sm.Session.Run(map[tf.Output]*tf.Tensor{io[0]: x}, []tf.Output{io[1]}, nil)
	if err != nil {
		return nil, err
	}
	if res[0].DataType() != tf.Uint8 || !slices.Equal(res[0].Shape(), shape) {
		return nil, fmt.Errorf("model returned %v %v, want uint8 %v", res[0].DataType(), res[0].Shape(), shape)
	}
	y, err := graph.Uint8s(res[0])
	if err != nil {
		return nil, err
	}
	out := make([]*image.NRGBA, len(imgs))
	for i := range out {
		if out[i], err = imageio.FromUint8(y[i*size:(i+1)*size], w, h); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// close releases the model's session.
func (m *model) close() {
	if m.sm != nil && m.sm.Session != nil {
		m.sm.Session.Close()
		m.sm.Session = nil
	}
}
