package main

import (
	"fmt"
	"image"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/serving"
)

// The two directions, by signature name.
const (
	dirWoman2Man = cyclegan.SigWoman2Man
	dirMan2Woman = cyclegan.SigMan2Woman
)

// translateBatch is how many images one session run translates.
const translateBatch = 20

// model is an exported CycleGAN loaded with both directions.
type model struct{ m *serving.Model }

// loadModel loads the SavedModel in dir with its woman2man and man2woman
// signatures.
func loadModel(dir string, cfg graph.SessionConfig) (*model, error) {
	m, err := serving.LoadModel(dir, serving.Directions, cfg)
	if err != nil {
		return nil, err
	}
	return &model{m: m}, nil
}

func (m *model) close() { m.m.Close() }

// translate runs direction d on imgs (all of one size), translateBatch
// images per session run, and returns the translations in order.
func (m *model) translate(d string, imgs []*image.NRGBA) ([]*image.NRGBA, error) {
	out := make([]*image.NRGBA, 0, len(imgs))
	for start := 0; start < len(imgs); start += translateBatch {
		batch := imgs[start:min(start+translateBatch, len(imgs))]
		res, err := m.m.Translate(d, batch)
		if err != nil {
			return nil, fmt.Errorf("translate %s, images %d-%d: %w", d, start, start+len(batch)-1, err)
		}
		out = append(out, res...)
	}
	return out, nil
}
