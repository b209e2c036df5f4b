// Package progress draws a progress bar on a terminal and nothing elsewhere,
// so logs piped to a file stay clean.
package progress

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar counts towards a total. A nil *Bar is valid and draws nothing: New
// returns nil when w is not a terminal.
type Bar struct{ bar *progressbar.ProgressBar }

// New returns a bar on w counting units ("steps", "images") towards total,
// starting at done, or nil when w is not a terminal.
func New(w io.Writer, total, done int64, what, units string) *Bar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	b := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what), progressbar.OptionShowCount(),
		progressbar.OptionSetItsString(units), progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	b.Set64(done)
	return &Bar{bar: b}
}

// Active reports whether a bar is drawn.
func (b *Bar) Active() bool { return b != nil }

// Add advances the bar by n.
func (b *Bar) Add(n int) {
	if b != nil {
		b.bar.Add(n)
	}
}

// Set moves the bar to n.
func (b *Bar) Set(n int64) {
	if b != nil {
		b.bar.Set64(n)
	}
}

// Finish completes and clears the bar.
func (b *Bar) Finish() {
	if b != nil {
		b.bar.Finish()
	}
}
