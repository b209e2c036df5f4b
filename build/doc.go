// Package build holds the scripts that install the TensorFlow runtime and
// the checks that keep the Dockerfile on the same Makefile targets as CI.
// It has no code of its own; see its tests.
package build
