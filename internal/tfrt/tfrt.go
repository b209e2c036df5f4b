// Package tfrt is the project's link to the TensorFlow C runtime.
//
// The Go bindings link -ltensorflow (the wheel's libtensorflow_cc.so.2, which
// exports the C API). Some C API symbols (TF_NewStatus, TF_NewTensor, ...)
// live in libtensorflow_framework.so.2 instead, so this package adds that
// library (next to -ltensorflow) to the link of every binary that imports it. With the runtime
// installed system-wide (make tf PREFIX=/usr/local) no CGO_* variables are
// needed; with the project-local prefix, `eval "$(make -s env)"` sets them.
package tfrt

// #cgo LDFLAGS: -ltensorflow -ltensorflow_framework
// #include <tensorflow/c/c_api.h>
import "C"

import (
	"fmt"
	"strings"
)

// Required is the TensorFlow release series the project is built and tested
// against. The SavedModel contract and the gradient registry are checked on it.
const Required = "2.21"

// Version reports the version string of the TensorFlow runtime that is loaded
// (TF_Version).
func Version() string { return C.GoString(C.TF_Version()) }

// Check returns an error when the loaded runtime is not a Required.x release,
// saying how to install the right one.
func Check() error {
	return checkVersion(Version())
}

func checkVersion(v string) error {
	if strings.HasPrefix(v, Required+".") {
		return nil
	}
	return fmt.Errorf("TensorFlow runtime %s is loaded, but this program needs %s.x: "+
		"run `make tf` (or `make tf PREFIX=/usr/local`) and `eval \"$(make -s env)\"`, "+
		"or point LD_LIBRARY_PATH at a TensorFlow %s.x lib directory", v, Required, Required)
}
