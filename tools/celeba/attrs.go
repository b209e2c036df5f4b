package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxLine bounds one line of the CelebA text files. A real attribute line is
// about 130 bytes; the limit only guards against a binary file given by
// mistake.
const maxLine = 1 << 20

// lineScanner returns a scanner over r that accepts lines up to maxLine.
func lineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	return sc
}

// checkImageName rejects names that are not a plain file name, so that a
// crafted attribute file cannot make the tool read or write outside its
// directories.
func checkImageName(s string) error {
	if s == "." || s == ".." || strings.ContainsAny(s, `/\`) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("image name %q is not a plain file name", s)
	}
	return nil
}

// parseAttributes reads a CelebA list_attr_celeba.txt from r; name is used in
// error messages only.
//
// The format is: line 1, the number of images; line 2, the attribute names
// separated by spaces (one of them "Male"); then one line per image, the file
// name followed by one value per attribute, each 1 or -1, separated by one or
// more spaces or tabs. CRLF line ends and blank lines (for example a trailing
// one) are accepted.
//
// It returns, for every image, whether it is a man (Male == 1), and the image
// names in file order. Errors name the file and the 1-based line number: a
// data line with the wrong number of fields, a value other than 1 or -1, a
// duplicated image, a header without a Male column, or a count on line 1 that
// disagrees with the number of image lines.
func parseAttributes(r io.Reader, name string) (map[string]bool, []string, error) {
	sc := lineScanner(r)
	lineNo := 0
	// next returns the next non-blank line's fields.
	next := func() ([]string, bool) {
		for sc.Scan() {
			lineNo++
			if f := strings.Fields(sc.Text()); len(f) > 0 {
				return f, true
			}
		}
		return nil, false
	}

	f, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %w", name, lineNo+1, err)
		}
		return nil, nil, fmt.Errorf("%s: empty file, want the image count on line 1", name)
	}
	countLine := lineNo
	if len(f) != 1 {
		return nil, nil, fmt.Errorf("%s: line %d: want the image count alone, got %d fields", name, lineNo, len(f))
	}
	count, err := strconv.Atoi(f[0])
	if err != nil || count < 0 {
		return nil, nil, fmt.Errorf("%s: line %d: image count %q is not a non-negative integer", name, lineNo, f[0])
	}

	header, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %w", name, lineNo+1, err)
		}
		return nil, nil, fmt.Errorf("%s: line %d: missing the attribute names line", name, lineNo+1)
	}
	headerLine := lineNo
	maleCol := -1
	for i, a := range header {
		if a == "Male" {
			if maleCol >= 0 {
				return nil, nil, fmt.Errorf("%s: line %d: attribute Male appears twice (columns %d and %d)", name, lineNo, maleCol+1, i+1)
			}
			maleCol = i
		}
	}
	if maleCol < 0 {
		return nil, nil, fmt.Errorf("%s: line %d: no Male column among the %d attribute names", name, lineNo, len(header))
	}

	male := make(map[string]bool, count)
	order := make([]string, 0, min(count, 1<<20))
	seenAt := make(map[string]int, count)
	for {
		f, ok := next()
		if !ok {
			break
		}
		if len(f) != len(header)+1 {
			return nil, nil, fmt.Errorf("%s: line %d: got %d fields, want %d (image name and %d attributes, per line %d)",
				name, lineNo, len(f), len(header)+1, len(header), headerLine)
		}
		img := f[0]
		if err := checkImageName(img); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %w", name, lineNo, err)
		}
		if prev, dup := seenAt[img]; dup {
			return nil, nil, fmt.Errorf("%s: line %d: image %s already listed on line %d", name, lineNo, img, prev)
		}
		for i, v := range f[1:] {
			if v != "1" && v != "-1" {
				return nil, nil, fmt.Errorf("%s: line %d: attribute %s of %s is %q, want 1 or -1", name, lineNo, header[i], img, v)
			}
		}
		seenAt[img] = lineNo
		male[img] = f[1+maleCol] == "1"
		order = append(order, img)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: line %d: %w", name, lineNo+1, err)
	}
	if len(order) != count {
		return nil, nil, fmt.Errorf("%s: line %d: declares %d images but the file lists %d", name, countLine, count, len(order))
	}
	return male, order, nil
}

// Partitions of list_eval_partition.txt.
const (
	partTrain = 0
	partVal   = 1
	partTest  = 2
)

// parsePartition reads a CelebA list_eval_partition.txt from r: one line per
// image, "NAME P" with P = 0 (train), 1 (validation) or 2 (test). Blank lines
// are skipped. Errors name the file (name) and the 1-based line number.
func parsePartition(r io.Reader, name string) (map[string]int, error) {
	sc := lineScanner(r)
	part := make(map[string]int)
	seenAt := make(map[string]int)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("%s: line %d: got %d fields, want 2 (image name and partition)", name, lineNo, len(f))
		}
		if err := checkImageName(f[0]); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, lineNo, err)
		}
		if prev, dup := seenAt[f[0]]; dup {
			return nil, fmt.Errorf("%s: line %d: image %s already listed on line %d", name, lineNo, f[0], prev)
		}
		var p int
		switch f[1] {
		case "0":
			p = partTrain
		case "1":
			p = partVal
		case "2":
			p = partTest
		default:
			return nil, fmt.Errorf("%s: line %d: partition of %s is %q, want 0, 1 or 2", name, lineNo, f[0], f[1])
		}
		seenAt[f[0]] = lineNo
		part[f[0]] = p
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, lineNo+1, err)
	}
	return part, nil
}
