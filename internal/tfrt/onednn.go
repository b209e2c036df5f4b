package tfrt

// #include <stdbool.h>
// // tensorflow::IsMklEnabled(), exported by libtensorflow_framework.so.2: is
// // this process running TensorFlow's oneDNN kernels and graph rewrites?
// extern bool cyclegan_tf_is_mkl_enabled(void) __asm__("_ZN10tensorflow12IsMklEnabledEv");
import "C"

import (
	"fmt"
	"os"
	"slices"
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

// FrozenWeightsEnv, set to 1, lets TensorFlow's oneDNN convolutions treat
// their weights as constants: reordered into oneDNN's layout once and kept.
// Only for a process whose weights never change once loaded.
const FrozenWeightsEnv = "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS"

// defaultedEnv lists the variables DefaultOneDNN set, not the user.
const defaultedEnv = "CYCLEGAN_ONEDNN_DEFAULTED"

// DefaultOneDNN gives the calling program oneDNN by default: when OneDNNEnv
// is unset it sets it to 1 (and, with frozenWeights, FrozenWeightsEnv to 1
// unless that is set) and re-executes the program (same executable,
// arguments and otherwise the same environment), because TensorFlow has
// already read the variables by the time Go code runs. It returns without
// re-executing when OneDNNEnv is set, whatever its value: a user's
// TF_ENABLE_ONEDNN_OPTS=0 turns the kernels off as TensorFlow documents.
// Call it first thing in main (or in a TestMain, to test with the program's
// kernels), never from a library, and before any goroutine or
// file that must not be lost: on success it does not return.
//
// Measured on this project's 2-core AMD EPYC (AVX2, where TensorFlow leaves
// oneDNN off): the training step ran faster and in far less memory with
// oneDNN. Inference with weights read from variables ran 2.3 to 2.6 times
// slower than TensorFlow's default kernels, and 1.2 to 1.3 times faster
// with frozenWeights, which only a program that never trains may ask for:
// the converter, not training or evaluate (which trains its classifier).
func DefaultOneDNN(frozenWeights bool) error {
	if _, set := os.LookupEnv(OneDNNEnv); set {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("turn on oneDNN: find this program to re-execute it: %w", err)
	}
	set := []string{OneDNNEnv}
	if _, user := os.LookupEnv(FrozenWeightsEnv); frozenWeights && !user {
		set = append(set, FrozenWeightsEnv)
	}
	env := os.Environ()
	for _, name := range set {
		env = append(env, name+"=1")
	}
	env = append(env, defaultedEnv+"="+strings.Join(set, ","))
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("turn on oneDNN: re-execute %s with %s=1: %w", exe, OneDNNEnv, err)
	}
	return nil // not reached
}

// ChildEnv is this process's environment for a child program that picks its
// own oneDNN default: without the variables DefaultOneDNN set (values the
// user set stay).
func ChildEnv() []string {
	return EnvWithout(append(strings.Split(os.Getenv(defaultedEnv), ","), defaultedEnv)...)
}

// EnvWithout is this process's environment without the named variables.
func EnvWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !slices.Contains(names, name) {
			env = append(env, kv)
		}
	}
	return env
}
