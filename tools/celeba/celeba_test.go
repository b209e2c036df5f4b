package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"cyclegan/internal/imageio"
)

// celebaAttrs is the real header of list_attr_celeba.txt (Male is column 21).
const celebaAttrs = "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"

const (
	nImages  = 12
	maleCol  = 20 // 0-based index of Male in celebaAttrs
	testSize = 32 // small outputs keep the tests fast
)

// fixture image i: men are the odd ones; partitions 0 for i < 8, 1 for 8
// and 9, 2 for 10 and 11.
func imgName(i int) string { return fmt.Sprintf("%06d.jpg", i+1) }
func isMale(i int) bool    { return i%2 == 1 }
func partOf(i int) int {
	switch {
	case i < 8:
		return 0
	case i < 10:
		return 1
	}
	return 2
}

// attrLine is the attribute file line of image i (two spaces after the name
// and before positive values, as in the real file).
func attrLine(i int) string {
	var b strings.Builder
	b.WriteString(imgName(i))
	for a := range 40 {
		v := -1
		if a == maleCol {
			if isMale(i) {
				v = 1
			}
		} else if (a+i)%3 == 0 {
			v = 1
		}
		if v == 1 {
			b.WriteString("  1")
		} else {
			b.WriteString(" -1")
		}
	}
	return b.String()
}

// attrText is a well-formed list_attr_celeba.txt for n images.
func attrText(n int) string {
	lines := []string{fmt.Sprint(n), celebaAttrs + " "}
	for i := range n {
		lines = append(lines, attrLine(i))
	}
	return strings.Join(lines, "\n") + "\n"
}

// bandImage is a 178x218 test image: red above the face crop (rows < 30),
// blue below it (rows >= 208), and in between green with a brightness that
// increases with x so a flipped or shifted crop would show.
func bandImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 178, 218))
	for y := range 218 {
		for x := range 178 {
			c := color.NRGBA{0, uint8(60 + x), 0, 255}
			if y < 30 {
				c = color.NRGBA{255, 0, 0, 255}
			} else if y >= 208 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// writeFixture builds a fake CelebA download with nImages images in a new
// temporary directory and returns it.
func writeFixture(t *testing.T, withPartition bool) string {
	t.Helper()
	src := t.TempDir()
	dir := filepath.Join(src, imagesDir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, bandImage(), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	var part strings.Builder
	for i := range nImages {
		writeFile(t, filepath.Join(dir, imgName(i)), buf.String())
		fmt.Fprintf(&part, "%s %d\n", imgName(i), partOf(i))
	}
	writeFile(t, filepath.Join(src, attrFile), attrText(nImages))
	if withPartition {
		writeFile(t, filepath.Join(src, partitionFile), part.String())
	}
	return src
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runMain runs the command and returns its exit status and log output.
func runMain(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := realMain(args, &out)
	return code, out.String()
}

// quietLogger discards log output.
func quietLogger() *logrus.Logger {
	l := logrus.New()
	l.SetOutput(&bytes.Buffer{})
	return l
}

// listDir returns the non-hidden file names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestLayoutsPutEachImageInItsFolderAtTheRequestedSize(t *testing.T) {
	tests := []struct {
		name   string
		split  bool
		format string
		folder func(i int) string
		dirs   []string
	}{
		{"woman/man", false, "jpg", func(i int) string {
			if isMale(i) {
				return "man"
			}
			return "woman"
		}, []string{"woman", "man"}},
		{"split, validation folded into train", true, "jpg", func(i int) string {
			d := "train"
			if partOf(i) == 2 {
				d = "test"
			}
			if isMale(i) {
				return d + "B"
			}
			return d + "A"
		}, []string{"trainA", "trainB", "testA", "testB"}},
		{"png format", false, "png", func(i int) string {
			if isMale(i) {
				return "man"
			}
			return "woman"
		}, []string{"woman", "man"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFixture(t, true)
			out := t.TempDir()
			args := []string{"-src", src, "-out", out, "-size", fmt.Sprint(testSize), "-workers", "2", "-format", tc.format}
			if tc.split {
				args = append(args, "-split")
			}
			code, log := runMain(t, args...)
			if code != 0 {
				t.Fatalf("exit status %d, want 0; log:\n%s", code, log)
			}
			want := map[string]int{}
			for i := range nImages {
				dir := tc.folder(i)
				want[dir]++
				p := filepath.Join(out, dir, strings.TrimSuffix(imgName(i), ".jpg")+"."+tc.format)
				img, err := imageio.DecodeFile(p, 0)
				if err != nil {
					t.Fatalf("image %d: %v", i, err)
				}
				if b := img.Bounds(); b.Dx() != testSize || b.Dy() != testSize {
					t.Errorf("%s is %v, want %dx%d", p, b.Size(), testSize, testSize)
				}
			}
			for _, d := range tc.dirs {
				if got := len(listDir(t, filepath.Join(out, d))); got != want[d] {
					t.Errorf("%s holds %d files, want %d", d, got, want[d])
				}
			}
			if !strings.Contains(log, "written="+fmt.Sprint(nImages)) {
				t.Errorf("log does not report written=%d:\n%s", nImages, log)
			}
		})
	}
}

func TestCropKeepsTheFaceSquareAndDropsTheBands(t *testing.T) {
	tests := []struct {
		w, h int
		want image.Rectangle
	}{
		{178, 218, image.Rect(0, 30, 178, 208)},
		{100, 100, image.Rect(0, 0, 100, 100)},
		{120, 80, image.Rect(20, 0, 100, 80)},
		{89, 109, image.Rect(0, 15, 89, 104)},
	}
	for _, tc := range tests {
		if got := faceRect(tc.w, tc.h); got != tc.want {
			t.Errorf("faceRect(%d, %d) = %v, want %v", tc.w, tc.h, got, tc.want)
		}
	}

	out := cropFace(bandImage(), 64)
	if out.Bounds() != image.Rect(0, 0, 64, 64) {
		t.Fatalf("crop is %v, want 64x64", out.Bounds())
	}
	for _, y := range []int{0, 63} {
		for x := range 64 {
			c := out.NRGBAAt(x, y)
			if c.R > 8 || c.B > 8 {
				t.Fatalf("pixel (%d,%d) = %v: a red or blue band leaked into the crop", x, y, c)
			}
		}
	}
	if l, r := out.NRGBAAt(2, 32).G, out.NRGBAAt(61, 32).G; l >= r {
		t.Errorf("green left %d >= right %d: crop is flipped", l, r)
	}
}

func TestMalformedAttributeFilesNameTheLine(t *testing.T) {
	good := strings.Split(strings.TrimSuffix(attrText(3), "\n"), "\n")
	with := func(line int, text string) string { // replace 1-based line
		l := append([]string(nil), good...)
		l[line-1] = text
		return strings.Join(l, "\n") + "\n"
	}
	tests := []struct {
		name string
		text string
		want string
	}{
		{"too few fields", with(4, strings.TrimSuffix(attrLine(1), " -1")), "line 4: got 40 fields, want 41"},
		{"too many fields", with(5, attrLine(2)+"  1"), "line 5: got 42 fields, want 41"},
		{"bad value 2", with(3, strings.Replace(attrLine(0), " -1", " 2", 1)), `line 3: attribute Arched_Eyebrows of 000001.jpg is "2"`},
		{"value 0", with(5, strings.Replace(attrLine(2), "-1", "0", 3)), "line 5: "},
		{"missing Male column", with(2, strings.Replace(celebaAttrs, "Male", "Female", 1)), "line 2: no Male column"},
		{"count larger than lines", with(1, "4"), "line 1: declares 4 images but the file lists 3"},
		{"count smaller than lines", with(1, "2"), "line 1: declares 2 images but the file lists 3"},
		{"count not a number", with(1, "many"), `line 1: image count "many"`},
		{"duplicate image", with(5, attrLine(0)), "line 5: image 000001.jpg already listed on line 3"},
		{"path in name", with(4, strings.Replace(attrLine(1), "000002.jpg", "../x.jpg", 1)), "line 4: image name"},
		{"empty file", "", "empty file"},
		{"no header", "3\n", "line 2: missing the attribute names line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseAttributes(strings.NewReader(tc.text), "list_attr_celeba.txt")
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), "list_attr_celeba.txt: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want the file name and %q", err, tc.want)
			}
		})
	}
}

func TestAttributeParsingAcceptsRealFormatting(t *testing.T) {
	tests := []struct {
		name string
		text string
	}{
		{"as written", attrText(3)},
		{"CRLF line ends", strings.ReplaceAll(attrText(3), "\n", "\r\n")},
		{"trailing blank lines and tabs", strings.ReplaceAll(attrText(3), " -1", "\t-1") + "\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			male, order, err := parseAttributes(strings.NewReader(tc.text), "a.txt")
			if err != nil {
				t.Fatal(err)
			}
			if len(order) != 3 || order[0] != imgName(0) || order[2] != imgName(2) {
				t.Fatalf("order %v", order)
			}
			for i := range 3 {
				if male[imgName(i)] != isMale(i) {
					t.Errorf("%s: male = %v, want %v", imgName(i), male[imgName(i)], isMale(i))
				}
			}
		})
	}
}

func TestMalformedPartitionFilesNameTheLine(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"bad partition", "000001.jpg 0\n000002.jpg 3\n", `line 2: partition of 000002.jpg is "3"`},
		{"too many fields", "000001.jpg 0\n\n000002.jpg 1 2\n", "line 3: got 3 fields"},
		{"duplicate", "000001.jpg 0\n000001.jpg 2\n", "line 2: image 000001.jpg already listed on line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePartition(strings.NewReader(tc.text), "p.txt")
			if err == nil || !strings.Contains(err.Error(), "p.txt: "+tc.want) {
				t.Errorf("error %v, want %q", err, "p.txt: "+tc.want)
			}
		})
	}
	got, err := parsePartition(strings.NewReader("000001.jpg 0\r\n000002.jpg 1\n000003.jpg 2\n"), "p.txt")
	if err != nil || got["000001.jpg"] != partTrain || got["000002.jpg"] != partVal || got["000003.jpg"] != partTest {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestBadImagesAreReportedAndTheRestConverted(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(path string) error
		wantLog string
		missing int
		failed  int
	}{
		{"missing image", os.Remove, "missing", 1, 0},
		{"corrupt image", func(p string) error { return os.WriteFile(p, []byte("not a jpeg"), 0o644) }, "image not converted", 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFixture(t, false)
			bad := imgName(4) // a woman
			if err := tc.damage(filepath.Join(src, imagesDir, bad)); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			code, log := runMain(t, "-src", src, "-out", out, "-size", fmt.Sprint(testSize), "-workers", "2")
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if !strings.Contains(log, tc.wantLog) || !strings.Contains(log, "image="+bad) {
				t.Errorf("log does not report %s as %q:\n%s", bad, tc.wantLog, log)
			}
			want := fmt.Sprintf("written=%d", nImages-1)
			if !strings.Contains(log, want) || !strings.Contains(log, fmt.Sprintf("missing=%d", tc.missing)) ||
				!strings.Contains(log, fmt.Sprintf("failed=%d", tc.failed)) {
				t.Errorf("summary lacks %s missing=%d failed=%d:\n%s", want, tc.missing, tc.failed, log)
			}
			if n := len(listDir(t, filepath.Join(out, "woman"))) + len(listDir(t, filepath.Join(out, "man"))); n != nImages-1 {
				t.Errorf("%d outputs, want %d", n, nImages-1)
			}
		})
	}
}

func TestRerunSkipsExistingOutputs(t *testing.T) {
	src := writeFixture(t, true)
	out := t.TempDir()
	cfg := config{Src: src, Out: out, Size: testSize, Split: true, Workers: 2, Format: "jpg"}
	if st, err := run(cfg, quietLogger()); err != nil || st != (stats{Written: nImages}) {
		t.Fatalf("first run: %+v, %v", st, err)
	}
	probe := filepath.Join(out, "trainA", "000001.jpg")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(probe, old, old); err != nil {
		t.Fatal(err)
	}
	// An interrupted run: one output never written, a stale temporary file.
	if err := os.Remove(filepath.Join(out, "testB", "000012.jpg")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(out, "testB", ".000012.jpg.tmp123")
	writeFile(t, tmp, "partial")
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}

	st, err := run(cfg, quietLogger())
	if err != nil || st != (stats{Written: 1, Skipped: nImages - 1}) {
		t.Fatalf("re-run: %+v, %v; want only the missing output written", st, err)
	}
	if fi, err := os.Stat(probe); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("existing output was rewritten (mtime %v, want %v, err %v)", fi.ModTime(), old, err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("stale temporary file still there (err %v)", err)
	}
	if st, err := run(cfg, quietLogger()); err != nil || st != (stats{Skipped: nImages}) {
		t.Errorf("third run: %+v, %v; want everything skipped", st, err)
	}
	cfg.Size = testSize / 2
	if st, err := run(cfg, quietLogger()); err != nil || st != (stats{Written: nImages}) {
		t.Errorf("run with another size: %+v, %v; want everything rewritten", st, err)
	}
}

func TestInputProblemsStopTheRunWithAClearError(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, src string)
		split bool
		want  string
	}{
		{"split without partition file", func(*testing.T, string) {}, true, "-split needs the partition file"},
		{"missing images folder", func(t *testing.T, src string) { os.RemoveAll(filepath.Join(src, imagesDir)) }, false, "CelebA images folder"},
		{"missing attribute file", func(t *testing.T, src string) { os.Remove(filepath.Join(src, attrFile)) }, false, "CelebA attribute file"},
		{"malformed attribute file", func(t *testing.T, src string) {
			writeFile(t, filepath.Join(src, attrFile), strings.Replace(attrText(nImages), attrLine(5), attrLine(5)+" 1", 1))
		}, false, "line 8: got 42 fields"},
		{"partition file missing an image", func(t *testing.T, src string) {
			writeFile(t, filepath.Join(src, partitionFile), "000001.jpg 0\n")
		}, true, "no partition for 11 of the 12 images"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFixture(t, false)
			tc.setup(t, src)
			out := filepath.Join(t.TempDir(), "out")
			cfg := config{Src: src, Out: out, Size: testSize, Split: tc.split, Workers: 1, Format: "jpg"}
			_, err := run(cfg, quietLogger())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output folder created before the error (stat: %v)", err)
			}
			args := []string{"-src", src, "-out", out}
			if tc.split {
				args = append(args, "-split")
			}
			if code, _ := runMain(t, args...); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help documents every flag", []string{"-h"}, 0, "-src"},
		{"src required", []string{"-out", "x"}, 2, "-src is required"},
		{"size range", []string{"-src", "a", "-out", "b", "-size", "8"}, 2, "-size 8 out of range"},
		{"format", []string{"-src", "a", "-out", "b", "-format", "gif"}, 2, `-format "gif"`},
		{"workers", []string{"-src", "a", "-out", "b", "-workers", "0"}, 2, "-workers 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runMain(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit %d and %q", code, out, tc.code, tc.want)
			}
			if tc.code == 0 {
				for _, f := range []string{"-src", "-out", "-size", "-split", "-workers", "-format"} {
					if !strings.Contains(out, "  "+f) {
						t.Errorf("help lacks %s", f)
					}
				}
			}
		})
	}
}
