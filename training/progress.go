package main

import (
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar on stderr when it is a terminal, else nothing.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(total, done int64) *progress {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return &progress{}
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("training"), progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("steps"), progressbar.OptionShowIts(), progressbar.OptionSetPredictTime(true))
	bar.Set64(done)
	return &progress{bar: bar}
}

func (p *progress) set(n int64) {
	if p.bar != nil {
		p.bar.Set64(n)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
