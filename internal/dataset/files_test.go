package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestScanDetectsLayouts(t *testing.T) {
	img := func(t *testing.T) []byte { return pngBytes(t, flat(4, 4, idColor(1))) }
	tests := []struct {
		name         string
		files        []string // relative paths to create as images
		junk         []string // relative paths to create with text content
		nameA, nameB string
		wantA, wantB []string // relative to root, in order
	}{
		{
			name:  "woman and man",
			files: []string{"woman/b.jpg", "woman/a.png", "man/c.webp"},
			nameA: "woman", nameB: "man",
			wantA: []string{"woman/a.png", "woman/b.jpg"}, wantB: []string{"man/c.webp"},
		},
		{
			name:  "reference trainA and trainB",
			files: []string{"trainA/1.jpg", "trainB/2.jpg", "trainB/1.jpg", "testA/9.jpg"},
			nameA: "trainA", nameB: "trainB",
			wantA: []string{"trainA/1.jpg"}, wantB: []string{"trainB/1.jpg", "trainB/2.jpg"},
		},
		{
			name:  "nested subfolders are read recursively",
			files: []string{"woman/x/y/deep.png", "woman/x/top.png", "woman/a.png", "man/celeb/one/p.BMP", "man/celeb/two/q.TIFF"},
			nameA: "woman", nameB: "man",
			wantA: []string{"woman/a.png", "woman/x/top.png", "woman/x/y/deep.png"},
			wantB: []string{"man/celeb/one/p.BMP", "man/celeb/two/q.TIFF"},
		},
		{
			name:  "extensions are case-insensitive and others ignored",
			files: []string{"woman/A.JPG", "woman/b.Jpeg", "woman/c.GIF", "woman/d.tif", "man/e.PNG"},
			junk:  []string{"woman/notes.txt", "woman/README", "man/thumbs.db"},
			nameA: "woman", nameB: "man",
			wantA: []string{"woman/A.JPG", "woman/b.Jpeg", "woman/c.GIF", "woman/d.tif"},
			wantB: []string{"man/e.PNG"},
		},
		{
			name:  "hidden files and folders are skipped",
			files: []string{"woman/a.png", "woman/._a.png", "woman/.cache/b.png", "man/c.png"},
			nameA: "woman", nameB: "man",
			wantA: []string{"woman/a.png"}, wantB: []string{"man/c.png"},
		},
		{
			name:  "woman and man win over trainA and trainB",
			files: []string{"woman/a.png", "man/b.png", "trainA/c.png", "trainB/d.png"},
			nameA: "woman", nameB: "man",
			wantA: []string{"woman/a.png"}, wantB: []string{"man/b.png"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tt.files {
				writeFile(t, filepath.Join(root, f), img(t))
			}
			for _, f := range tt.junk {
				writeFile(t, filepath.Join(root, f), []byte("junk"))
			}
			got, err := Scan(root)
			if err != nil {
				t.Fatal(err)
			}
			if got.NameA != tt.nameA || got.NameB != tt.nameB {
				t.Errorf("domains %q/%q, want %q/%q", got.NameA, got.NameB, tt.nameA, tt.nameB)
			}
			if got.DirA != filepath.Join(root, tt.nameA) || got.DirB != filepath.Join(root, tt.nameB) || got.Root != root {
				t.Errorf("dirs %q %q root %q", got.DirA, got.DirB, got.Root)
			}
			rel := func(paths []string) []string {
				out := make([]string, len(paths))
				for i, p := range paths {
					r, _ := filepath.Rel(root, p)
					out[i] = filepath.ToSlash(r)
				}
				return out
			}
			if a := rel(got.A); !slices.Equal(a, tt.wantA) {
				t.Errorf("A = %v, want %v", a, tt.wantA)
			}
			if b := rel(got.B); !slices.Equal(b, tt.wantB) {
				t.Errorf("B = %v, want %v", b, tt.wantB)
			}
		})
	}
}

func TestScanFollowsFileSymlinks(t *testing.T) {
	root := t.TempDir()
	target := writeFile(t, filepath.Join(t.TempDir(), "elsewhere.png"), pngBytes(t, flat(2, 2, idColor(0))))
	writeFile(t, filepath.Join(root, "man", "m.png"), pngBytes(t, flat(2, 2, idColor(0))))
	if err := os.MkdirAll(filepath.Join(root, "woman"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(root, "woman", "link.png")); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if err := os.Symlink(filepath.Join(root, "nowhere.png"), filepath.Join(root, "woman", "dangling.png")); err != nil {
		t.Fatal(err)
	}
	f, err := Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.A) != 1 || filepath.Base(f.A[0]) != "link.png" {
		t.Errorf("A = %v, want only the working link", f.A)
	}
}

func TestScanErrorsNameTheFolder(t *testing.T) {
	img := func(t *testing.T) []byte { return pngBytes(t, flat(4, 4, idColor(1))) }
	tests := []struct {
		name     string
		files    []string
		dirs     []string
		junk     []string
		root     string // relative to the temp dir; default the temp dir
		contains []string
	}{
		{
			name:     "no domain folders",
			files:    []string{"photos/a.png"},
			contains: []string{"woman/", "man/", "trainA/", "trainB/"},
		},
		{
			name:     "man missing",
			files:    []string{"woman/a.png"},
			contains: []string{filepath.Join("ROOT", "man"), "does not exist", "woman/ (A) + man/ (B)", "trainA/ + trainB/"},
		},
		{
			name:     "woman missing",
			files:    []string{"man/a.png"},
			contains: []string{filepath.Join("ROOT", "woman"), "does not exist"},
		},
		{
			name:     "trainB missing",
			files:    []string{"trainA/a.png"},
			contains: []string{filepath.Join("ROOT", "trainB"), "does not exist", "reference CycleGAN"},
		},
		{
			name:     "man empty",
			files:    []string{"woman/a.png"},
			dirs:     []string{"man/sub"},
			contains: []string{filepath.Join("ROOT", "man"), "no images"},
		},
		{
			name:     "woman only has non-images",
			files:    []string{"man/a.png"},
			junk:     []string{"woman/readme.txt", "woman/.hidden.png"},
			contains: []string{filepath.Join("ROOT", "woman"), "no images", ".jpg"},
		},
		{
			name:     "man is a file",
			files:    []string{"woman/a.png"},
			junk:     []string{"man"},
			contains: []string{filepath.Join("ROOT", "man"), "not a directory"},
		},
		{
			name:     "root missing",
			root:     "nope",
			contains: []string{filepath.Join("ROOT", "nope")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				writeFile(t, filepath.Join(dir, f), img(t))
			}
			for _, f := range tt.junk {
				writeFile(t, filepath.Join(dir, f), []byte("junk"))
			}
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			root := filepath.Join(dir, tt.root)
			_, err := Scan(root)
			if err == nil {
				t.Fatal("no error")
			}
			for _, c := range tt.contains {
				c = strings.ReplaceAll(c, "ROOT", dir)
				if !strings.Contains(err.Error(), c) {
					t.Errorf("error %q does not contain %q", err, c)
				}
			}
		})
	}
}

func TestHasImageExt(t *testing.T) {
	for name, want := range map[string]bool{
		"a.jpg": true, "a.JPEG": true, "b.Png": true, "c.gif": true, "d.bmp": true,
		"e.tif": true, "f.TIFF": true, "g.webp": true, "h.txt": false, "jpg": false, "i.jpg.bak": false,
	} {
		if got := HasImageExt(name); got != want {
			t.Errorf("HasImageExt(%q) = %v", name, got)
		}
	}
}
