package tfrt

// #include <stdbool.h>
// // tensorflow::IsMklEnabled(), exported by libtensorflow_framework.so.2: is
// // this process running TensorFlow's oneDNN kernels and graph rewrites?
// extern bool cyclegan_tf_is_mkl_enabled(void) __asm__("_ZN10tensorflow12IsMklEnabledEv");
import "C"

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// OneDNNEnv is the variable TensorFlow reads, once, while the library loads
// (before a Go program's main runs), to turn its oneDNN kernels on ("1") or
// off ("0"). Unset, TensorFlow 2.21 turns them on only on CPUs with
// AVX512-VNNI, AVX512-BF16, AVX-VNNI or AMX.
const OneDNNEnv = "TF_ENABLE_ONEDNN_OPTS"

// OneDNNEnabled reports whether this process runs TensorFlow's oneDNN
// kernels (the _Mkl* ops and their graph rewrites).
func OneDNNEnabled() bool { return bool(C.cyclegan_tf_is_mkl_enabled()) }

// defaultedEnv marks an OneDNNEnv that DefaultOneDNN set, not the user.
const defaultedEnv = "CYCLEGAN_ONEDNN_DEFAULTED"

// DefaultOneDNN gives the calling program oneDNN by default: when OneDNNEnv
// is unset it sets it to 1 and re-executes the program (same executable,
// arguments and otherwise the same environment), because TensorFlow has
// already read the variable by the time Go code runs. It returns without
// re-executing when the variable is set, whatever its value: a user's
// TF_ENABLE_ONEDNN_OPTS=0 turns the kernels off as TensorFlow documents.
// Call it first thing in main (or a test package's TestMain, to test with
// the program's kernels), never from a library, and before any goroutine
// or file that must not be lost: on success it does not return.
//
// Training calls it: its step ran faster and in far less memory with
// oneDNN on this CPU (see BENCHMARKS.md). Conversion does not: there
// oneDNN's convolutions with weights read from variables ran 2.3 to 2.6
// times slower than TensorFlow's default kernels.
func DefaultOneDNN() error {
	if _, set := os.LookupEnv(OneDNNEnv); set {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("turn on oneDNN: find this program to re-execute it: %w", err)
	}
	env := append(os.Environ(), OneDNNEnv+"=1", defaultedEnv+"=1")
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("turn on oneDNN: re-execute %s with %s=1: %w", exe, OneDNNEnv, err)
	}
	return nil // not reached
}

// ChildEnv is this process's environment for a child program that picks its
// own oneDNN default: without the OneDNNEnv that DefaultOneDNN set (a value
// the user set stays).
func ChildEnv() []string {
	if os.Getenv(defaultedEnv) == "" {
		return os.Environ()
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, OneDNNEnv+"=") && !strings.HasPrefix(kv, defaultedEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}
