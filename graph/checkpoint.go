package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// Saver saves and restores a set of variables with SaveV2/RestoreV2, in
// TensorFlow's checkpoint format (PREFIX.index, PREFIX.data-00000-of-00001),
// keyed by each variable's Name. Its ops follow the layout of a TensorFlow
// SaverDef, so a SavedModel can name them.
type Saver struct {
	vars []*Variable
	// Filename is the string tensor fed with the checkpoint prefix.
	Filename tf.Output
	// SaveTensor is fetched to save (an Identity of Filename after SaveV2).
	SaveTensor tf.Output
	// RestoreOp restores every variable, or none when any fails.
	RestoreOp *tf.Operation
	// reads are the tensors SaveV2 writes, one per variable.
	reads []tf.Output
}

// NewSaver adds save and restore ops for vars under name (usually "save").
func NewSaver(b *Builder, name string, vars []*Variable) *Saver {
	l := b.Sub(name)
	sv := &Saver{vars: vars}
	names := make([]string, len(vars))
	slices := make([]string, len(vars))
	dtypes := make([]tf.DataType, len(vars))
	for i, v := range vars {
		names[i], dtypes[i] = v.Name, v.DType
	}
	def := l.Const("model")
	sv.Filename = l.add(tf.OpSpec{Type: "PlaceholderWithDefault", Name: "filename",
		Input: []tf.Input{def}, Attrs: map[string]any{"dtype": tf.String, "shape": tf.ScalarShape()}})
	tn := op.Const(l.Scope("tensor_names"), names)
	ss := op.Const(l.Scope("shape_and_slices"), slices)

	rd := l.Sub("read")
	for _, v := range vars {
		sv.reads = append(sv.reads, rd.read(v))
	}
	save := l.s.AddOperation(tf.OpSpec{Type: "SaveV2", Name: "SaveV2",
		Input: []tf.Input{sv.Filename, tn, ss, tf.OutputList(sv.reads)}})
	sv.SaveTensor = l.WithControlDependencies(save).Identity("control_dependency", sv.Filename)

	restored := l.s.AddOperation(tf.OpSpec{Type: "RestoreV2", Name: "RestoreV2",
		Input: []tf.Input{sv.Filename, tn, ss}, Attrs: map[string]any{"dtypes": dtypes}})
	if restored == nil {
		return sv
	}
	// Check every shape before assigning any, so a checkpoint of another
	// model changes nothing.
	checked := make([]tf.Output, len(vars))
	checks := make([]*tf.Operation, len(vars))
	ck := l.Sub("check")
	for i, v := range vars {
		checked[i] = op.EnsureShape(ck.Scope("ensure_shape"), restored.Output(i), tf.MakeShape(v.Shape...))
		checks[i] = checked[i].Op
	}
	as := l.WithControlDependencies(checks...).Sub("assign")
	assigns := make([]*tf.Operation, len(vars))
	for i, v := range vars {
		assigns[i] = as.assign(fmt.Sprintf("assign_%d", i), v, checked[i])
	}
	sv.RestoreOp = l.Group("restore_all", assigns...)
	return sv
}

// Save writes the variables' current values to prefix.
func (sv *Saver) Save(sess *tf.Session, prefix string) error {
	t, err := tf.NewTensor(prefix)
	if err != nil {
		return err
	}
	if _, err := sess.Run(map[tf.Output]*tf.Tensor{sv.Filename: t}, []tf.Output{sv.SaveTensor}, nil); err != nil {
		return fmt.Errorf("save %s: %w", prefix, err)
	}
	return nil
}

// SaveValues writes values (by variable name) to prefix without a session
// holding the variables: it feeds the tensors SaveV2 reads.
func (sv *Saver) SaveValues(sess *tf.Session, prefix string, values map[string]*tf.Tensor) error {
	t, err := tf.NewTensor(prefix)
	if err != nil {
		return err
	}
	feeds := map[tf.Output]*tf.Tensor{sv.Filename: t}
	for i, v := range sv.vars {
		val, ok := values[v.Name]
		if !ok {
			return fmt.Errorf("save %s: no value for variable %s", prefix, v.Name)
		}
		feeds[sv.reads[i]] = val
	}
	if _, err := sess.Run(feeds, []tf.Output{sv.SaveTensor}, nil); err != nil {
		return fmt.Errorf("save %s: %w", prefix, err)
	}
	return nil
}

// Restore loads every variable from prefix. A missing, truncated or corrupt
// checkpoint, or one whose shapes differ, is an error and assigns nothing.
func (sv *Saver) Restore(sess *tf.Session, prefix string) error {
	for _, f := range []string{prefix + ".index", prefix + ".data-00000-of-00001"} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("restore %s: %w", prefix, err)
		}
	}
	t, err := tf.NewTensor(prefix)
	if err != nil {
		return err
	}
	if _, err := sess.Run(map[tf.Output]*tf.Tensor{sv.Filename: t}, nil, []*tf.Operation{sv.RestoreOp}); err != nil {
		return fmt.Errorf("restore %s: checkpoint is corrupt, truncated or of another model: %w", prefix, err)
	}
	return nil
}

// Values fetches the current values of vars, keyed by name.
func Values(sess *tf.Session, vars []*Variable) (map[string]*tf.Tensor, error) {
	fetches := make([]tf.Output, len(vars))
	for i, v := range vars {
		fetches[i] = v.Read
	}
	out, err := sess.Run(nil, fetches, nil)
	if err != nil {
		return nil, fmt.Errorf("read variables: %w", err)
	}
	m := make(map[string]*tf.Tensor, len(vars))
	for i, v := range vars {
		m[v.Name] = out[i]
	}
	return m, nil
}

// Checkpoints keeps checkpoints under Dir, one folder each, and a small
// "checkpoint" file naming the latest. Each folder is written under a
// temporary name and renamed into place, and the pointer file moves only
// after that, so a crash mid-write leaves the previous checkpoint intact and
// still named latest.
type Checkpoints struct {
	Dir   string
	Saver *Saver
}

// VariablesPrefix is the checkpoint prefix inside a checkpoint folder.
const VariablesPrefix = "variables"

const pointerFile = "checkpoint"

type pointer struct {
	Latest string `json:"latest"`
}

// Save writes the variables and the extra files (name -> contents) to the
// folder Dir/name and makes it the latest. It returns the folder's path.
// Names are not reused for the latest checkpoint: replacing it in place
// could not be made crash-safe, so save under a new name (e.g. the step)
// and Prune the old ones.
func (c *Checkpoints) Save(sess *tf.Session, name string, extra map[string][]byte) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || name == pointerFile {
		return "", fmt.Errorf("checkpoint name %q: want a plain folder name", name)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	c.removeLeftovers()
	final := filepath.Join(c.Dir, name)
	if _, err := os.Stat(final); err == nil {
		latest, err := c.Latest()
		if err != nil {
			return "", err
		}
		if latest == name {
			return "", fmt.Errorf("checkpoint %s is the latest; save under a new name", final)
		}
		if err := os.RemoveAll(final); err != nil {
			return "", fmt.Errorf("checkpoint %s: %w", final, err)
		}
	}
	err := writeDirAtomic(final, func(tmp string) error {
		if err := c.Saver.Save(sess, filepath.Join(tmp, VariablesPrefix)); err != nil {
			return err
		}
		for fname, data := range extra {
			if err := os.WriteFile(filepath.Join(tmp, fname), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", final, err)
	}
	data, _ := json.Marshal(pointer{Latest: name})
	if err := writeFileAtomic(filepath.Join(c.Dir, pointerFile), data); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", final, err)
	}
	return final, nil
}

// removeLeftovers deletes the temporary folders and files of writes that a
// crash interrupted.
func (c *Checkpoints) removeLeftovers() {
	entries, _ := os.ReadDir(c.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-") {
			os.RemoveAll(filepath.Join(c.Dir, e.Name()))
		}
	}
}

// List returns the names of the complete checkpoints under Dir, sorted.
func (c *Checkpoints) List() ([]string, error) {
	entries, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoints %s: %w", c.Dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Prune removes every checkpoint except the latest and those keep accepts.
func (c *Checkpoints) Prune(keep func(name string) bool) error {
	latest, err := c.Latest()
	if err != nil {
		return err
	}
	names, err := c.List()
	if err != nil {
		return err
	}
	for _, n := range names {
		if n != latest && !keep(n) {
			if err := os.RemoveAll(filepath.Join(c.Dir, n)); err != nil {
				return fmt.Errorf("prune checkpoint %s: %w", n, err)
			}
		}
	}
	return nil
}

// Latest returns the name of the latest complete checkpoint, or "" when
// there is none.
func (c *Checkpoints) Latest() (string, error) {
	data, err := os.ReadFile(filepath.Join(c.Dir, pointerFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("checkpoint pointer: %w", err)
	}
	var p pointer
	if err := json.Unmarshal(data, &p); err != nil || p.Latest == "" || strings.ContainsAny(p.Latest, `/\`) {
		return "", fmt.Errorf("checkpoint pointer %s is corrupt: %q", filepath.Join(c.Dir, pointerFile), data)
	}
	return p.Latest, nil
}

// Restore restores the variables from the checkpoint folder name and returns
// its extra files (those named in want; a missing one is an error).
func (c *Checkpoints) Restore(sess *tf.Session, name string, want ...string) (map[string][]byte, error) {
	dir := filepath.Join(c.Dir, name)
	extra := make(map[string][]byte, len(want))
	for _, f := range want {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
		extra[f] = data
	}
	if err := c.Saver.Restore(sess, filepath.Join(dir, VariablesPrefix)); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return extra, nil
}
