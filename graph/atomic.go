package graph

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// writeDirAtomic builds a folder with fill under a temporary sibling name,
// syncs it and renames it to final. An existing final is replaced only once
// the new one is complete; on any error final is left as it was.
func writeDirAtomic(final string, fill func(tmp string) error) (err error) {
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := syncTree(tmp); err != nil {
		return err
	}
	if _, statErr := os.Stat(final); statErr == nil {
		old := tmp + ".old"
		if err := os.Rename(final, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, final); err != nil {
			os.Rename(old, final) // put the good one back
			return err
		}
		os.RemoveAll(old)
	} else if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return syncDir(parent)
}

// writeFileAtomic writes data to a temporary sibling, syncs it and renames
// it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncTree fsyncs every file and folder under root.
func syncTree(root string) error {
	return filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
