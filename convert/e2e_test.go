package main

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cyclegan/graph/cyclegan"
	"cyclegan/internal/imageio"
	"cyclegan/internal/pycheck"
	"cyclegan/internal/tfrt"
	"cyclegan/tools/faces"
)

func TestConvertedImagesEqualPythonTensorFlowsSignatureOutputWithinOneLevel(t *testing.T) {
	model := testModel(t)
	for _, tc := range []struct {
		name   string
		dir    string
		gender faces.Gender
		args   []string
		// prepare is what convert should feed the model for a decoded input.
		prepare func(*image.NRGBA) *image.NRGBA
	}{
		{"woman2man at native sizes, batched by size", cyclegan.SigWoman2Man, faces.Woman, []string{"-batch", "2"},
			func(img *image.NRGBA) *image.NRGBA { return img }},
		{"man2woman with -size 40 on the short side", cyclegan.SigMan2Woman, faces.Man, []string{"-size", "40", "-batch", "3"},
			func(img *image.NRGBA) *image.NRGBA {
				w, h := shortSideTo(img.Rect.Dx(), img.Rect.Dy(), 40)
				return imageio.Resize(img, w, h)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
			// Three sizes, two of them twice, in nested folders, PNG and JPEG.
			inputs := map[string]image.Image{
				"a.png":              face(1, tc.gender, 64),
				"b.png":              face(2, tc.gender, 64),
				"c.png":              face(3, tc.gender, 64),
				"sub/d.png":          face(4, tc.gender, 70),
				"sub/deeper/e.jpg":   face(5, tc.gender, 48),
				"sub/deeper/f.jpeg":  face(6, tc.gender, 48),
				"odd size/g h.png":   imageio.Resize(face(7, tc.gender, 64), 37, 53),
				"sub/UPPER CASE.PNG": face(8, tc.gender, 40),
			}
			for rel, img := range inputs {
				writeImage(t, filepath.Join(in, rel), img)
			}
			code, log := runConvertProgram(t, append([]string{"-dir", tc.dir, "-model", model, "-in", in, "-out", out}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit status %d, want 0:\n%s", code, log)
			}
			if _, set := os.LookupEnv(tfrt.OneDNNEnv); !set && !strings.Contains(log, "onednn=true") {
				t.Errorf("the converter did not run with its default oneDNN kernels:\n%s", log)
			}
			if !strings.Contains(log, "converted=8") || !strings.Contains(log, "failed=0") || !strings.Contains(log, "images_per_s=") {
				t.Errorf("the summary does not say 8 converted, 0 failed and images/s:\n%s", log)
			}

			var calls []pycheck.Call
			var got []*image.NRGBA
			var names []string
			for rel := range inputs {
				want := tc.prepare(readImage(t, filepath.Join(in, rel)))
				outPath := filepath.Join(out, strings.TrimSuffix(rel, filepath.Ext(rel))+".png")
				g := readImage(t, outPath)
				if g.Rect.Size() != want.Rect.Size() {
					t.Fatalf("%s: output is %v, want %v", outPath, g.Rect.Size(), want.Rect.Size())
				}
				px := make([]uint8, 3*want.Rect.Dx()*want.Rect.Dy())
				if err := imageio.ToUint8(px, want); err != nil {
					t.Fatal(err)
				}
				data := make([]float64, len(px))
				for i, v := range px {
					data[i] = float64(v)
				}
				calls = append(calls, pycheck.Call{Signature: tc.dir, Inputs: map[string]pycheck.Tensor{cyclegan.IOKey: {
					DType: "uint8", Shape: []int64{1, int64(want.Rect.Dy()), int64(want.Rect.Dx()), 3}, Data: data}}})
				got = append(got, g)
				names = append(names, rel)
			}
			resp, err := pycheck.Run(model, calls)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Results) != len(calls) {
				t.Fatalf("Python answered %d calls of %d", len(resp.Results), len(calls))
			}
			worst := 0
			for i, res := range resp.Results {
				py := res[cyclegan.IOKey]
				w, h := got[i].Rect.Dx(), got[i].Rect.Dy()
				if py.DType != "uint8" || len(py.Data) != 3*w*h {
					t.Fatalf("%s: Python returned %s %v", names[i], py.DType, py.Shape)
				}
				px := make([]uint8, len(py.Data))
				for j, v := range py.Data {
					px[j] = uint8(v)
				}
				want, err := imageio.FromUint8(px, w, h)
				if err != nil {
					t.Fatal(err)
				}
				d, err := maxDiff(got[i], want)
				if err != nil {
					t.Fatalf("%s: %v", names[i], err)
				}
				if d > 1 {
					t.Errorf("%s: convert's output differs from Python TensorFlow's by %d levels, want at most 1", names[i], d)
				}
				worst = max(worst, d)
			}
			t.Logf("%d images: largest difference from Python TensorFlow %d level(s)", len(got), worst)
		})
	}
}

func TestJPEGOutputSheetsAndGalleryKeepTheInputsRelativePaths(t *testing.T) {
	model := testModel(t)
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	writeImage(t, filepath.Join(in, "x.png"), face(1, faces.Woman, 48))
	writeImage(t, filepath.Join(in, "nested", "y.jpg"), face(2, faces.Woman, 40))
	writeFile(t, filepath.Join(in, "notes.txt"), []byte("not an image, and not an image name: ignored"))
	writeImage(t, filepath.Join(in, ".hidden", "z.png"), face(3, faces.Woman, 40))
	code, log := runConvert(t, "-dir", "woman2man", "-model", model, "-in", in, "-out", out, "-format", "jpg", "-compare")
	if code != 0 {
		t.Fatalf("exit status %d:\n%s", code, log)
	}
	for _, tc := range []struct {
		path string
		w, h int
	}{
		{"x.jpg", 48, 48},
		{"nested/y.jpg", 40, 40},
		{"compare/x.jpg", 48 + 2 + 48, 48},
		{"compare/nested/y.jpg", 40 + 2 + 40, 40},
	} {
		img := readImage(t, filepath.Join(out, tc.path))
		if img.Rect.Dx() != tc.w || img.Rect.Dy() != tc.h {
			t.Errorf("%s is %v, want %dx%d", tc.path, img.Rect.Size(), tc.w, tc.h)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, GalleryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`src="compare/x.jpg"`, `src="compare/nested/y.jpg"`, `href="nested/y.jpg"`, "2 converted"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, ".hidden")); err == nil {
		t.Error("a hidden folder was converted")
	}

	// One file as -in: the output is named after it.
	single := filepath.Join(t.TempDir(), "single")
	if code, log := runConvert(t, "-dir", "man2woman", "-model", model, "-in", filepath.Join(in, "x.png"), "-out", single); code != 0 {
		t.Fatalf("one file: exit status %d:\n%s", code, log)
	}
	if img := readImage(t, filepath.Join(single, "x.png")); img.Rect.Dx() != 48 {
		t.Errorf("one file: output is %v", img.Rect.Size())
	}
}
