// Command celeba turns a CelebA download into the folder layout training
// reads.
//
// Usage:
//
//	go run ./tools/celeba -src DIR -out DIR [-size 256] [-split] [-workers N] [-format jpg|png]
//
// Input (-src): img_align_celeba/ (the aligned 178x218 JPEGs),
// list_attr_celeba.txt and, for -split, list_eval_partition.txt, as
// unpacked from the official CelebA download.
//
// Output (-out): woman/ and man/ (attribute Male -1 and 1); or, with -split,
// trainA/ trainB/ testA/ testB/ with A = woman and B = man, train holding
// partitions 0 (train) and 1 (validation, folded into train because
// CycleGAN training does not use a validation set) and test partition 2.
// Each image is the face-centred 178x178 square of the aligned image (rows
// 30..207, see faceRect) resized to -size with Catmull-Rom, written under its
// own base name with the extension of -format.
//
// Outputs are written atomically, so an interrupted run can simply be run
// again: outputs that already exist at the requested size are skipped.
// Images that are listed but missing on disk, or that cannot be decoded, are
// logged by name and the rest converted; the exit status is then 1. A
// missing or malformed list is an error naming the file and line, before
// anything is written. Exit status 2 is a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/sirupsen/logrus"
)

// Bounds of -size.
const (
	minSize = 16
	maxSize = 4096
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stderr))
}

// realMain runs the command with args (without the program name), logging
// to stderr, and returns the exit status.
func realMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("celeba", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.Src, "src", "", "CelebA `directory` holding img_align_celeba/, list_attr_celeba.txt and (for -split) list_eval_partition.txt (required)")
	fs.StringVar(&cfg.Out, "out", "", "output `directory`; created if needed, existing outputs are kept (required)")
	fs.IntVar(&cfg.Size, "size", 256, fmt.Sprintf("side of the square output images in `pixels` (%d to %d)", minSize, maxSize))
	fs.BoolVar(&cfg.Split, "split", false, "write trainA/ trainB/ testA/ testB/ (A = woman, B = man; train = partitions 0 and 1, test = 2) instead of woman/ and man/; needs list_eval_partition.txt")
	fs.IntVar(&cfg.Workers, "workers", runtime.NumCPU(), "number of images converted in parallel")
	fs.StringVar(&cfg.Format, "format", "jpg", "output `format`: jpg (quality 95) or png")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: celeba -src DIR -out DIR [flags]\n\n")
		fmt.Fprintf(w, "Converts a CelebA download into woman/ and man/ (or, with -split, trainA/ trainB/ testA/ testB/):\n")
		fmt.Fprintf(w, "each aligned 178x218 face is cropped to its face-centred 178x178 square (rows 30..207) and\n")
		fmt.Fprintf(w, "resized to -size. Re-running skips outputs that already exist at that size. Images listed\n")
		fmt.Fprintf(w, "but missing or unreadable are reported and the rest converted; the exit status is then 1.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "celeba: "+format+"\n", a...)
		fmt.Fprintf(stderr, "Run with -h for usage.\n")
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected arguments %q", fs.Args())
	case cfg.Src == "":
		return usageErr("-src is required")
	case cfg.Out == "":
		return usageErr("-out is required")
	case cfg.Size < minSize || cfg.Size > maxSize:
		return usageErr("-size %d out of range [%d, %d]", cfg.Size, minSize, maxSize)
	case cfg.Workers < 1:
		return usageErr("-workers %d must be at least 1", cfg.Workers)
	case cfg.Format != "jpg" && cfg.Format != "png":
		return usageErr("-format %q must be jpg or png", cfg.Format)
	}

	log := logrus.New()
	log.SetOutput(stderr)
	st, err := run(cfg, log)
	if err != nil {
		log.WithError(err).Error("celeba conversion failed")
		return 1
	}
	if !st.ok() {
		return 1
	}
	return 0
}
