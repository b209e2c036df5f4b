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
	"strconv"
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

// MallocArenasEnv is glibc's cap on malloc arenas (by default 8 per core),
// which it reads once, as the process starts.
//
// TensorFlow allocates and frees every step's tensors with malloc from its
// intra- and inter-op threads, and each arena keeps what is freed into it,
// so with many arenas the process holds several arenas' worth of step
// memory. Measured on this project's 2-core machine, the 256x256 reference
// training run (4 steps, samples and export) peaked at 3866 MiB of RSS with
// glibc's default and at 3757 MiB with MALLOC_ARENA_MAX=1. Setting the cap
// with mallopt from Go is too late: the arenas exist by then (3867 MiB).
const MallocArenasEnv = "MALLOC_ARENA_MAX"

// defaultedEnv lists the variables DefaultRuntime set, not the user.
const defaultedEnv = "CYCLEGAN_RUNTIME_DEFAULTED"

// DefaultRuntime gives the calling program its TensorFlow runtime settings
// by default, through variables read only as the process starts, so it
// re-executes the program (same executable, arguments and otherwise the
// same environment) when it has one to set:
//   - oneDNN: when OneDNNEnv is unset it sets it to 1 (and, with
//     frozenWeights, FrozenWeightsEnv to 1 unless that is set). A user's
//     TF_ENABLE_ONEDNN_OPTS=0 turns the kernels off as TensorFlow documents.
//   - malloc arenas: with mallocArenas > 0, MallocArenasEnv to mallocArenas
//     unless it is set.
//
// It returns without re-executing when there is nothing to set. Call it
// first thing in main (or in a TestMain, to test with the program's
// kernels), never from a library, and before any goroutine or file that
// must not be lost: when it re-executes, it does not return.
//
// Measured on this project's 2-core AMD EPYC (AVX2, where TensorFlow leaves
// oneDNN off): the training step ran faster and in far less memory with
// oneDNN. Inference with weights read from variables ran 2.3 to 2.6 times
// slower than TensorFlow's default kernels, and 1.2 to 1.3 times faster
// with frozenWeights, which only a program that never trains may ask for:
// the converter, not training or evaluate (which trains its classifier).
func DefaultRuntime(frozenWeights bool, mallocArenas int) error {
	var set []string
	env := os.Environ()
	// setDefault sets name unless the user did, and reports whether it did.
	setDefault := func(name, value string) bool {
		if _, user := os.LookupEnv(name); user {
			return false
		}
		set = append(set, name)
		env = append(env, name+"="+value)
		return true
	}
	if setDefault(OneDNNEnv, "1") && frozenWeights {
		setDefault(FrozenWeightsEnv, "1")
	}
	if mallocArenas > 0 {
		setDefault(MallocArenasEnv, strconv.Itoa(mallocArenas))
	}
	if len(set) == 0 {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("set %s: find this program to re-execute it: %w", strings.Join(set, ", "), err)
	}
	env = append(env, defaultedEnv+"="+strings.Join(set, ","))
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("re-execute %s with %s: %w", exe, strings.Join(set, ", "), err)
	}
	return nil // not reached
}

// Defaulted lists the variables DefaultRuntime set in this process, not
// the user.
func Defaulted() []string {
	if v := os.Getenv(defaultedEnv); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// ChildEnv is this process's environment for a child program that picks its
// own runtime defaults: without the variables DefaultRuntime set (values the
// user set stay).
func ChildEnv() []string {
	return EnvWithout(append(Defaulted(), defaultedEnv)...)
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
