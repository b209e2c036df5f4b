package graph

import (
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// SummaryWriter writes TensorBoard event files with TensorFlow's own summary
// ops (SummaryWriter, CreateSummaryFileWriter, WriteScalarSummary,
// WriteImageSummary), so the files are exactly what TensorBoard expects.
type SummaryWriter struct {
	scalars  []string
	step     tf.Output
	values   []tf.Output
	writeAll *tf.Operation
	imageTag tf.Output
	images   tf.Output
	writeImg *tf.Operation
	logdir   tf.Output
	open     *tf.Operation
	flush    *tf.Operation
}

// NewSummaryWriter adds a writer under name whose WriteScalars writes one
// value for each of scalarTags.
func NewSummaryWriter(b *Builder, name string, scalarTags []string) *SummaryWriter {
	l := b.Sub(name)
	w := &SummaryWriter{scalars: scalarTags}
	handle := l.add(tf.OpSpec{Type: "SummaryWriter", Name: "writer",
		Attrs: map[string]any{"shared_name": l.vpath + "/writer", "container": ""}})
	w.logdir = l.Placeholder("logdir", tf.String)
	w.open = l.s.AddOperation(tf.OpSpec{Type: "CreateSummaryFileWriter", Name: "open", Input: []tf.Input{
		handle, w.logdir, l.Const(int32(100)), l.Const(int32(10000)), l.Const(".v2")}})
	w.step = l.Placeholder("step", tf.Int64)
	var writes []*tf.Operation
	for i, tag := range scalarTags {
		v := l.Placeholder(fmt.Sprintf("value_%d", i), tf.Float)
		w.values = append(w.values, v)
		writes = append(writes, op.WriteScalarSummary(l.Scope("scalar"), handle, w.step, l.Const(tag), v))
	}
	w.writeAll = l.Group("write_scalars", writes...)
	w.imageTag = l.Placeholder("image_tag", tf.String)
	w.images = l.Placeholder("images", tf.Uint8, -1, -1, -1, 3)
	w.writeImg = op.WriteImageSummary(l.Scope("image"), handle, w.step, w.imageTag, w.images,
		l.Const([]uint8{255, 0, 0}), op.WriteImageSummaryMaxImages(1))
	w.flush = l.s.AddOperation(tf.OpSpec{Type: "FlushSummaryWriter", Name: "flush", Input: []tf.Input{handle}})
	return w
}

// Open starts (or continues, in a new file) the event log in logdir.
func (w *SummaryWriter) Open(sess *tf.Session, logdir string) error {
	t, err := tf.NewTensor(logdir)
	if err != nil {
		return err
	}
	if _, err := sess.Run(map[tf.Output]*tf.Tensor{w.logdir: t}, nil, []*tf.Operation{w.open}); err != nil {
		return fmt.Errorf("open event log %s: %w", logdir, err)
	}
	return nil
}

// WriteScalars records values (in the order of the tags given to
// NewSummaryWriter) at step.
func (w *SummaryWriter) WriteScalars(sess *tf.Session, step int64, values []float32) error {
	if len(values) != len(w.values) {
		return fmt.Errorf("summary: %d values for %d tags", len(values), len(w.values))
	}
	st, err := tf.NewTensor(step)
	if err != nil {
		return err
	}
	feeds := map[tf.Output]*tf.Tensor{w.step: st}
	for i, v := range values {
		t, err := tf.NewTensor(v)
		if err != nil {
			return err
		}
		feeds[w.values[i]] = t
	}
	if _, err := sess.Run(feeds, nil, []*tf.Operation{w.writeAll}); err != nil {
		return fmt.Errorf("write summaries at step %d: %w", step, err)
	}
	return nil
}

// WriteImage records an image (uint8 [1, H, W, 3]) at step; TensorBoard
// shows it as tag+"/image".
func (w *SummaryWriter) WriteImage(sess *tf.Session, step int64, tag string, img *tf.Tensor) error {
	st, err := tf.NewTensor(step)
	if err != nil {
		return err
	}
	tt, err := tf.NewTensor(tag)
	if err != nil {
		return err
	}
	feeds := map[tf.Output]*tf.Tensor{w.step: st, w.imageTag: tt, w.images: img}
	if _, err := sess.Run(feeds, nil, []*tf.Operation{w.writeImg}); err != nil {
		return fmt.Errorf("write image summary %s at step %d: %w", tag, step, err)
	}
	return nil
}

// Flush writes buffered events to disk.
func (w *SummaryWriter) Flush(sess *tf.Session) error {
	if _, err := sess.Run(nil, nil, []*tf.Operation{w.flush}); err != nil {
		return fmt.Errorf("flush event log: %w", err)
	}
	return nil
}
