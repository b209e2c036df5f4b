package graph

import (
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// Float32s returns the elements of a float32 tensor of any shape in
// row-major order (a copy).
func Float32s(t *tf.Tensor) ([]float32, error) {
	v, err := flatValue(t)
	if err != nil {
		return nil, err
	}
	f, ok := v.([]float32)
	if !ok {
		return nil, fmt.Errorf("tensor is %v, not float32", t.DataType())
	}
	return f, nil
}

// Uint8s returns the elements of a uint8 tensor of any shape in row-major
// order (a copy).
func Uint8s(t *tf.Tensor) ([]uint8, error) {
	v, err := flatValue(t)
	if err != nil {
		return nil, err
	}
	u, ok := v.([]uint8)
	if !ok {
		return nil, fmt.Errorf("tensor is %v, not uint8", t.DataType())
	}
	return u, nil
}

// flatValue decodes t as a vector: the Go bindings decode into nested
// slices, so reshape to one dimension for one flat copy.
func flatValue(t *tf.Tensor) (any, error) {
	shape := t.Shape()
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	if err := t.Reshape([]int64{n}); err != nil {
		return nil, err
	}
	defer t.Reshape(shape)
	return t.Value(), nil
}
