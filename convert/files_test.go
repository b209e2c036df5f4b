package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cyclegan/tools/faces"

	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// snapshot lists every file under dir with its size and modification time.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m[path] = info.ModTime().String() + " " + info.Mode().String()
		if !d.IsDir() {
			m[path] += fmt.Sprint(" ", info.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOutputsThatWouldTouchTheInputAreRefusedBeforeAnythingIsWritten(t *testing.T) {
	for _, tc := range []struct {
		name string
		// layout makes the input tree under root and returns -in and -out.
		layout func(t *testing.T, root string) (in, out string)
		want   string
	}{
		{"-out equal to -in", func(t *testing.T, root string) (string, string) {
			return root + "/in", root + "/in"
		}, "or inside it: results never go into the input tree"},
		{"-out inside -in", func(t *testing.T, root string) (string, string) {
			return root + "/in", root + "/in/results"
		}, "or inside it: results never go into the input tree"},
		{"-out is a link into -in", func(t *testing.T, root string) (string, string) {
			if err := os.Symlink(root+"/in/sub", root+"/link"); err != nil {
				t.Fatal(err)
			}
			return root + "/in", root + "/link/new"
		}, "or inside it: results never go into the input tree"},
		{"-in inside -out, results landing in it", func(t *testing.T, root string) (string, string) {
			// in/in/c.png would be converted to out/in/c.png, which is
			// in/c.png: inside the input tree.
			writeImage(t, filepath.Join(root, "in", "in", "c.png"), face(3, faces.Woman, 32))
			return root + "/in", root
		}, "would overwrite or land in the input"},
		{"one -in file whose output is itself", func(t *testing.T, root string) (string, string) {
			return root + "/in/a.png", root + "/in"
		}, "would overwrite or land in the input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeImage(t, filepath.Join(root, "in", "a.png"), face(1, faces.Woman, 32))
			writeImage(t, filepath.Join(root, "in", "sub", "in", "b.png"), face(2, faces.Woman, 32))
			in, out := tc.layout(t, root)
			before := snapshot(t, root)
			code, log := runConvert(t, "-dir", "woman2man", "-model", filepath.Join(root, "no-model-needed"), "-in", in, "-out", out)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d", code, exitUsage)
			}
			if !strings.Contains(log, tc.want) {
				t.Errorf("the log does not say %q:\n%s", tc.want, log)
			}
			after := snapshot(t, root)
			for p, v := range after {
				if before[p] != v {
					t.Errorf("%s was written or changed", p)
				}
			}
		})
	}
}

func TestAnInputFolderGivenAsASymbolicLinkIsRead(t *testing.T) {
	model := testModel(t)
	root := t.TempDir()
	writeImage(t, filepath.Join(root, "real", "a.png"), face(1, faces.Woman, 32))
	if err := os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	code, log := runConvert(t, "-dir", "woman2man", "-model", model, "-in", filepath.Join(root, "link"), "-out", filepath.Join(root, "out"))
	if code != 0 {
		t.Fatalf("exit status %d:\n%s", code, log)
	}
	if _, err := os.Stat(filepath.Join(root, "out", "a.png")); err != nil {
		t.Error(err)
	}
}

func TestInputsWithTheSameOutputNameFailAndTheFirstIsKept(t *testing.T) {
	model := testModel(t)
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	writeImage(t, filepath.Join(in, "a.jpg"), face(1, faces.Woman, 32))
	writeImage(t, filepath.Join(in, "a.png"), face(2, faces.Woman, 32))
	code, log := runConvert(t, "-dir", "woman2man", "-model", model, "-in", in, "-out", out)
	if code != exitFailed {
		t.Errorf("exit status %d, want %d", code, exitFailed)
	}
	if !strings.Contains(log, "is also the output of "+filepath.Join(in, "a.jpg")) {
		t.Errorf("the clash is not reported:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(out, "a.png")); err != nil {
		t.Error(err)
	}
}

func TestModelProblemsAreClearErrorsListingWhatTheModelOffers(t *testing.T) {
	good := testModel(t)
	for _, tc := range []struct {
		name string
		// model returns the -model directory to use.
		model func(t *testing.T) string
		dir   string
		want  []string
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nothing") },
			"woman2man", []string{"does not exist", "go run ./training"}},
		{"a file, not a directory", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "model.pb")
			writeFile(t, p, []byte("x"))
			return p
		}, "woman2man", []string{"is not a directory"}},
		{"a directory without saved_model.pb", func(t *testing.T) string { return t.TempDir() },
			"woman2man", []string{"not a SavedModel", "no saved_model.pb"}},
		{"a corrupt saved_model.pb", func(t *testing.T) string {
			d := copyModel(t, good)
			writeFile(t, filepath.Join(d, "saved_model.pb"), []byte("\xff\xff\xff garbage"))
			return d
		}, "woman2man", []string{"saved_model.pb is corrupt"}},
		{"a truncated saved_model.pb", func(t *testing.T) string {
			d := copyModel(t, good)
			pb, _ := os.ReadFile(filepath.Join(d, "saved_model.pb"))
			writeFile(t, filepath.Join(d, "saved_model.pb"), pb[:len(pb)/3])
			return d
		}, "woman2man", []string{"corrupt"}},
		{"missing variables", func(t *testing.T) string {
			d := copyModel(t, good)
			os.RemoveAll(filepath.Join(d, "variables"))
			return d
		}, "woman2man", []string{"is incomplete", "variables.index is missing"}},
		{"truncated variable values", func(t *testing.T) string {
			d := copyModel(t, good)
			data := filepath.Join(d, "variables", "variables.data-00000-of-00001")
			v, _ := os.ReadFile(data)
			writeFile(t, data, v[:len(v)/2])
			return d
		}, "woman2man", []string{"load model"}},
		{"a model without the requested direction", func(t *testing.T) string {
			d := copyModel(t, good)
			dropSignature(t, d, "man2woman")
			return d
		}, "man2woman", []string{"has no man2woman signature; it offers: serving_default, woman2man"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(t.TempDir(), "in")
			writeImage(t, filepath.Join(in, "a.png"), face(1, faces.Woman, 32))
			out := filepath.Join(t.TempDir(), "out")
			code, log := runConvert(t, "-dir", tc.dir, "-model", tc.model(t), "-in", in, "-out", out)
			if code != exitFailed {
				t.Errorf("exit status %d, want %d", code, exitFailed)
			}
			for _, w := range tc.want {
				if !strings.Contains(log, w) {
					t.Errorf("the log does not say %q:\n%s", w, log)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("the output folder was created")
			}
		})
	}
}

func TestDefaultsFollowTheDefaultTrainingRunAndTheDirection(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		in, out, fail string
	}{
		{args: []string{"-dir", "woman2man"}, in: "data/synthetic/test/woman", out: "results/woman2man"},
		{args: []string{"-dir", "man2woman"}, in: "data/synthetic/test/man", out: "results/man2woman"},
		{args: []string{"-dir", "man2woman", "-in", "x", "-out", "y"}, in: "x", out: "y"},
		{args: nil, fail: "-dir is required"},
		{args: []string{"-dir", "cat2dog"}, fail: `-dir "cat2dog": want woman2man or man2woman`},
		{args: []string{"-dir", "woman2man", "-format", "gif"}, fail: "-format"},
		{args: []string{"-dir", "woman2man", "-size", "4"}, fail: "-size 4"},
		{args: []string{"-dir", "woman2man", "-batch", "0"}, fail: "-batch 0"},
		{args: []string{"-dir", "woman2man", "-parallel", "0"}, fail: "-parallel 0"},
		{args: []string{"-dir", "woman2man", "photo.jpg"}, fail: "give the input with -in"},
		{args: []string{"-serve", ":0"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stderr strings.Builder
			o, err := parseOptions(tc.args, &stderr)
			if tc.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fail) {
					t.Fatalf("error %v, want one saying %q", err, tc.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Model != DefaultModel {
				t.Errorf("-model %q, want %q", o.Model, DefaultModel)
			}
			if filepath.ToSlash(o.In) != tc.in || filepath.ToSlash(o.Out) != tc.out {
				t.Errorf("-in %q -out %q, want %q and %q", o.In, o.Out, tc.in, tc.out)
			}
		})
	}
}

// copyModel copies a SavedModel directory.
func copyModel(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "model")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// dropSignature removes a signature from the SavedModel in dir.
func dropSignature(t *testing.T, dir, name string) {
	t.Helper()
	path := filepath.Join(dir, "saved_model.pb")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sm corepb.SavedModel
	if err := proto.Unmarshal(data, &sm); err != nil {
		t.Fatal(err)
	}
	for _, mg := range sm.GetMetaGraphs() {
		delete(mg.GetSignatureDef(), name)
	}
	if data, err = proto.Marshal(&sm); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, data)
}
