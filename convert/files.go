package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"cyclegan/internal/dataset"
)

// job is one input file and where its results go.
type job struct {
	src   string // input path
	rel   string // path relative to -in (slash-separated), for reports and the gallery
	dst   string // converted image
	sheet string // side-by-side sheet ("" without -compare)
	err   error  // set when the job cannot run (an output name clash)
}

// errRefused marks the plans refused because they would write into or over
// the input.
var errRefused = errors.New("refused")

// CompareDir is the folder under -out that holds the -compare sheets.
const CompareDir = "compare"

// GalleryFile is the -compare gallery page under -out.
const GalleryFile = "index.html"

// plan lists the images under in (one file, or a folder read recursively
// with the same rules as training's data: files and folders starting with
// "." are skipped, files are kept by extension and checked by content
// later) and assigns each its output paths under out, keeping relative
// paths and base names with the extension of format ("png" or "jpg").
//
// It refuses, before anything is written, an output folder that is the input
// folder or inside it, and any output that would land in the input tree or
// on an input file. Two inputs that map to the same output (a.jpg and a.png)
// are not refused: the second job carries an error and is reported as failed.
func plan(in, out, format string, compare bool) ([]job, error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", in, err)
	}
	inAbs, err := realPath(in)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", in, err)
	}
	outAbs, err := realPath(out)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", out, err)
	}
	if st, err := os.Stat(out); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("output %s is a file: -out names a folder", out)
	}
	var jobs []job
	if st.IsDir() {
		if within(outAbs, inAbs) {
			return nil, fmt.Errorf("%w: output folder %s is the input folder %s or inside it: results never go into the input tree; choose another -out", errRefused, out, in)
		}
		srcs, err := dataset.ListImages(in)
		if err != nil {
			return nil, err
		}
		for _, src := range srcs {
			rel, err := filepath.Rel(in, src)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", src, err)
			}
			jobs = append(jobs, job{src: src, rel: filepath.ToSlash(rel)})
		}
	} else {
		jobs = append(jobs, job{src: in, rel: filepath.Base(in)})
	}

	ext := "." + format
	inputs := map[string]bool{}
	for _, j := range jobs {
		if abs, err := realPath(j.src); err == nil {
			inputs[abs] = true
		}
	}
	owner := map[string]string{} // output path -> the input it belongs to
	for i := range jobs {
		j := &jobs[i]
		base := strings.TrimSuffix(j.rel, filepath.Ext(j.rel)) + ext
		j.dst = filepath.Join(out, filepath.FromSlash(base))
		if compare {
			j.sheet = filepath.Join(out, CompareDir, filepath.FromSlash(base))
		}
		for _, p := range []string{j.dst, j.sheet} {
			if p == "" {
				continue
			}
			abs, err := realPath(p)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", p, err)
			}
			if inputs[abs] || (st.IsDir() && within(abs, inAbs)) {
				return nil, fmt.Errorf("%w: output %s would overwrite or land in the input %s: results never go into the input tree; choose another -out", errRefused, p, in)
			}
			if prev, ok := owner[abs]; ok {
				if j.err == nil {
					j.err = fmt.Errorf("its output %s is also the output of %s: rename one of them", p, prev)
				}
				continue
			}
			owner[abs] = j.src
		}
	}
	if compare {
		page := filepath.Join(out, GalleryFile)
		abs, err := realPath(page)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", page, err)
		}
		if inputs[abs] {
			return nil, fmt.Errorf("%w: output %s would overwrite the input %s: choose another -out", errRefused, page, in)
		}
	}
	return jobs, nil
}

// realPath returns path absolute and with symbolic links resolved, as far as
// it exists: the missing tail of a path that does not exist yet is appended
// to its nearest existing ancestor, resolved.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var tail []string
	for p := abs; ; p = filepath.Dir(p) {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{r}, tail...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(p) == p {
			return "", err
		}
		tail = append([]string{filepath.Base(p)}, tail...)
	}
}

// within reports whether path is dir or inside it (both cleaned, absolute).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
