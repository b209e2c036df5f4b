package graph

import (
	"crypto/sha256"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// model is smallNet with its loss, Adam and a saver over every variable
// (weights, Adam slots, learning rate and beta powers).
type model struct {
	b     *Builder
	x, y  tf.Output
	train *tf.Operation
	ckpt  *Checkpoints
	sess  *tf.Session
}

func newModel(t testing.TB, dir string) *model { return newModelWidth(t, dir, 4) }

func newModelWidth(t testing.TB, dir string, width int) *model {
	b := NewBuilder(tf.Float, 7)
	x := b.Placeholder("x", tf.Float, -1, -1, -1, 3)
	y := smallNetWidth(b, x, width)
	vars := b.TrainableUnder("net")
	grads, err := b.Gradients("gradients", b.L1(y, x), vars)
	if err != nil {
		t.Fatal(err)
	}
	train := NewAdam(b, "adam", 0.05, 0.5, 0.999, 1e-8).Apply(vars, grads, nil)
	saver := NewSaver(b, "save", b.Variables())
	m := &model{b: b, x: x, y: y, train: train, ckpt: &Checkpoints{Dir: dir, Saver: saver}}
	m.sess = newSession(t, b)
	return m
}

func (m *model) step(t testing.TB, seed int64) {
	r := rand.New(rand.NewSource(seed))
	run(t, m.sess, map[tf.Output]*tf.Tensor{m.x: randTensor(t, r, tf.Float, 0.5, 2, 8, 8, 3)}, nil, m.train)
}

// snapshot returns every variable's value and the net's output on a fixed
// input, as float64s (exact for float32).
func (m *model) snapshot(t testing.TB) map[string][]float64 {
	out := map[string][]float64{}
	vals, err := Values(m.sess, m.b.Variables())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range vals {
		out[k] = flat(t, v)
	}
	r := rand.New(rand.NewSource(42))
	out["output"] = flat(t, run(t, m.sess, map[tf.Output]*tf.Tensor{m.x: randTensor(t, r, tf.Float, 0.5, 1, 9, 11, 3)}, []tf.Output{m.y})[0])
	return out
}

func requireIdentical(t testing.TB, got, want map[string][]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if len(g) != len(w) {
			t.Fatalf("%s: %d values, want %d", k, len(g), len(w))
		}
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("%s[%d] = %v, want bit-identical %v", k, i, g[i], w[i])
			}
		}
	}
}

func TestCheckpointRestoresBitIdenticalInNewSessionAndProcess(t *testing.T) {
	dir := t.TempDir()
	a := newModel(t, dir)
	for i := 0; i < 3; i++ {
		a.step(t, int64(i))
	}
	want := a.snapshot(t)
	if _, err := a.ckpt.Save(a.sess, "step-3", map[string][]byte{"state.json": []byte(`{"step":3}`)}); err != nil {
		t.Fatal(err)
	}

	// A new graph and session in this process.
	b := newModel(t, dir)
	latest, err := b.ckpt.Latest()
	if err != nil || latest != "step-3" {
		t.Fatalf("Latest() = %q, %v; want step-3", latest, err)
	}
	extra, err := b.ckpt.Restore(b.sess, latest, "state.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(extra["state.json"]) != `{"step":3}` {
		t.Fatalf("extra file = %q", extra["state.json"])
	}
	requireIdentical(t, b.snapshot(t), want)

	// Training on from the restored state matches training on from the
	// original (Adam slots and beta powers came back too).
	a.step(t, 9)
	b.step(t, 9)
	requireIdentical(t, b.snapshot(t), a.snapshot(t))

	// A new process.
	out := filepath.Join(t.TempDir(), "snapshot.json")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=restore", "GRAPH_HELPER_CKPT="+dir, "GRAPH_HELPER_OUT="+out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restore in a new process: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string][]float64
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	requireIdentical(t, got, want)
}

func hashTree(t testing.TB, root string) map[string][32]byte {
	t.Helper()
	h := map[string][32]byte{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h[p] = sha256.Sum256(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRestoringCorruptCheckpointFailsClearlyAndChangesNothing(t *testing.T) {
	dir := t.TempDir()
	m := newModel(t, dir)
	m.step(t, 1)
	if _, err := m.ckpt.Save(m.sess, "good", nil); err != nil {
		t.Fatal(err)
	}
	good := m.snapshot(t)
	goodFiles := hashTree(t, filepath.Join(dir, "good"))
	data := filepath.Join(VariablesPrefix + ".data-00000-of-00001")
	index := filepath.Join(VariablesPrefix + ".index")

	cases := []struct {
		name    string
		corrupt func(dir string) error
		want    string
	}{
		{"truncated data", func(d string) error {
			return os.Truncate(filepath.Join(d, data), 100)
		}, "corrupt"},
		{"flipped bytes in data", func(d string) error {
			p := filepath.Join(d, data)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i := len(b) / 3; i < len(b)/3+64; i++ {
				b[i] ^= 0x5a
			}
			return os.WriteFile(p, b, 0o644)
		}, "corrupt"},
		{"garbage index", func(d string) error {
			return os.WriteFile(filepath.Join(d, index), []byte("not a checkpoint index at all"), 0o644)
		}, "corrupt"},
		{"zero-byte index", func(d string) error {
			return os.Truncate(filepath.Join(d, index), 0)
		}, "corrupt"},
		{"missing data file", func(d string) error {
			return os.Remove(filepath.Join(d, data))
		}, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Train on so the session differs from the checkpoint, then make
			// a second checkpoint and damage it.
			m.step(t, 2)
			before := m.snapshot(t)
			name := "bad-" + strings.ReplaceAll(tc.name, " ", "-")
			if _, err := m.ckpt.Save(m.sess, name, nil); err != nil {
				t.Fatal(err)
			}
			if err := tc.corrupt(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			m.step(t, 3)
			before = m.snapshot(t)
			_, err := m.ckpt.Restore(m.sess, name)
			if err == nil {
				t.Fatal("restore of a damaged checkpoint succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not say %q and name the checkpoint", err, tc.want)
			}
			requireIdentical(t, m.snapshot(t), before)
			if after := hashTree(t, filepath.Join(dir, "good")); len(after) != len(goodFiles) {
				t.Fatalf("good checkpoint files changed: %d -> %d", len(goodFiles), len(after))
			} else {
				for p, h := range goodFiles {
					if after[p] != h {
						t.Fatalf("good checkpoint file %s changed", p)
					}
				}
			}
			if _, err := m.ckpt.Restore(m.sess, "good"); err != nil {
				t.Fatalf("good checkpoint no longer restores: %v", err)
			}
			requireIdentical(t, m.snapshot(t), good)
		})
	}
}

func TestRestoringAnotherModelsCheckpointAssignsNothing(t *testing.T) {
	cases := []struct {
		name  string
		other func(t *testing.T, dir string) *Checkpoints
		want  string
	}{
		{"same names, other shapes", func(t *testing.T, dir string) *Checkpoints {
			o := newModelWidth(t, dir, 5)
			if _, err := o.ckpt.Save(o.sess, "other", nil); err != nil {
				t.Fatal(err)
			}
			return o.ckpt
		}, "shape"},
		{"missing variables", func(t *testing.T, dir string) *Checkpoints {
			b := NewBuilder(tf.Float, 1)
			b.Sub("net").Sub("c1").Variable("kernel", []int64{3, 3, 3, 4}, Ones())
			c := &Checkpoints{Dir: dir, Saver: NewSaver(b, "save", b.Variables())}
			if _, err := c.Save(newSession(t, b), "other", nil); err != nil {
				t.Fatal(err)
			}
			return c
		}, "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.other(t, dir)
			m := newModel(t, t.TempDir())
			m.step(t, 1)
			before := m.snapshot(t)
			m.ckpt.Dir = dir
			_, err := m.ckpt.Restore(m.sess, "other")
			if err == nil {
				t.Fatal("restoring another model's checkpoint succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			requireIdentical(t, m.snapshot(t), before)
		})
	}
}

func TestCrashWhileCheckpointingKeepsPreviousCheckpoint(t *testing.T) {
	dir := t.TempDir()
	m := newModel(t, dir)
	m.step(t, 1)
	if _, err := m.ckpt.Save(m.sess, "first", nil); err != nil {
		t.Fatal(err)
	}
	// A child process checkpoints in a loop and is killed (SIGKILL) in the
	// middle of it, repeatedly, at different moments after its first
	// checkpoint (so the kills land while it writes, however slow the
	// machine is to start it).
	for i, delay := range []time.Duration{0, 7, 20, 45, 90} {
		before, _ := m.ckpt.Latest()
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"=checkpoint-loop", "GRAPH_HELPER_CKPT="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for latest, _ := m.ckpt.Latest(); latest == before; latest, _ = m.ckpt.Latest() {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("kill %d: the child wrote no checkpoint within 2 minutes", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(delay * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		latest, err := m.ckpt.Latest()
		if err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		if _, err := m.ckpt.Restore(m.sess, latest); err != nil {
			t.Fatalf("kill %d, %v after a checkpoint: latest checkpoint %s does not restore: %v", i, delay, latest, err)
		}
	}
}
