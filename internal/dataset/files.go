// Package dataset is the training data pipeline for unpaired image domains:
// A (women) and B (men). Scan finds the image files; a Loader decodes,
// resizes, crops and flips them in parallel and hands out float32 NHWC
// batches in a fixed order that depends only on the seed and the position, so
// a resumed run sees exactly the batches an uninterrupted run would have.
package dataset

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// layout is one supported arrangement of the two domain folders under the
// data root.
type layout struct {
	a, b string
	desc string
}

// layouts are tried in this order; the first one of which either folder
// exists is used (so woman/ + man/ wins over trainA/ + trainB/).
var layouts = []layout{
	{a: "woman", b: "man", desc: "woman/ (A) + man/ (B)"},
	{a: "trainA", b: "trainB", desc: "trainA/ (A) + trainB/ (B), the reference CycleGAN layout"},
}

// imageExts are the file extensions Scan lists (compared case-insensitively).
// Whether a listed file really is a readable image is decided by decoding it,
// later, by content.
var imageExts = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// Files is the result of Scan: the image files of both domains.
type Files struct {
	// Root is the data folder that was scanned.
	Root string
	// NameA and NameB are the domain folder names used, relative to Root:
	// "woman" and "man", or "trainA" and "trainB".
	NameA, NameB string
	// DirA and DirB are Root joined with NameA and NameB.
	DirA, DirB string
	// A and B are the image paths of each domain, sorted, never empty.
	A, B []string
}

// Scan lists the training images under root. root must contain either woman/
// and man/ (A = woman, B = man) or trainA/ and trainB/ (the reference
// CycleGAN layout, A = trainA, B = trainB); if folders of both layouts
// exist, woman/ and man/ win. Each domain folder is read recursively; files
// and folders whose names start with "." are skipped, symbolic links to files
// are followed (links to folders are not). Files are kept by extension (.jpg
// .jpeg .png .gif .bmp .tif .tiff .webp, any case); content is checked when
// the Loader decodes them. A missing domain folder, or one without images, is
// an error naming that folder.
func Scan(root string) (*Files, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("scan %s: not a directory", root)
	}
	var chosen *layout
	for i := range layouts {
		if isDir(filepath.Join(root, layouts[i].a)) || isDir(filepath.Join(root, layouts[i].b)) {
			chosen = &layouts[i]
			break
		}
	}
	if chosen == nil {
		descs := make([]string, len(layouts))
		for i, l := range layouts {
			descs[i] = l.desc
		}
		return nil, fmt.Errorf("scan %s: no domain folders found; looked for %s", root, strings.Join(descs, ", or "))
	}
	f := &Files{
		Root:  root,
		NameA: chosen.a,
		NameB: chosen.b,
		DirA:  filepath.Join(root, chosen.a),
		DirB:  filepath.Join(root, chosen.b),
	}
	if f.A, err = listDomain(f.DirA, "A", chosen.desc); err != nil {
		return nil, err
	}
	if f.B, err = listDomain(f.DirB, "B", chosen.desc); err != nil {
		return nil, err
	}
	return f, nil
}

// supported summarises the layouts for error messages.
func supported() string {
	names := make([]string, len(layouts))
	for i, l := range layouts {
		names[i] = l.a + "/ + " + l.b + "/"
	}
	return strings.Join(names, " or ")
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// listDomain returns the sorted image paths under dir.
func listDomain(dir, domain, desc string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("scan: domain %s folder %s does not exist (layout %s; supported: %s)", domain, dir, desc, supported())
		}
		return nil, fmt.Errorf("scan: domain %s folder %s: %w", domain, dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("scan: domain %s folder %s is not a directory (layout %s; supported: %s)", domain, dir, desc, supported())
	}
	paths, err := ListImages(dir)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("scan: domain %s folder %s has no images with extensions %s (layout %s; supported: %s)", domain, dir, strings.Join(imageExts, " "), desc, supported())
	}
	return paths, nil
}

// ListImages walks dir recursively and returns its image files (by
// HasImageExt) in lexical order. Hidden files and folders are skipped;
// symbolic links to files are followed, links to folders are not (so a
// link cannot make the walk loop). A link given as dir itself is followed.
func ListImages(dir string) ([]string, error) {
	root := dir
	if st, err := os.Lstat(dir); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		root += string(filepath.Separator) // walk the folder the link names
	}
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !HasImageExt(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil || !st.Mode().IsRegular() {
				return nil // dangling, or a link to a folder
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	return paths, nil
}

// HasImageExt reports whether name has one of the image extensions Scan
// lists: .jpg .jpeg .png .gif .bmp .tif .tiff .webp, in any case.
func HasImageExt(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.Contains(imageExts, ext)
}
