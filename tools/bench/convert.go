package main

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/imageio"
	"cyclegan/internal/pycheck"
	"cyclegan/internal/serving"
	"cyclegan/tools/faces"

	"github.com/sirupsen/logrus"
)

// exportRandom exports a freshly initialized model of c (the speed of a
// conversion does not depend on the weights) and returns its directory.
func exportRandom(c benchConfig, work string) (string, error) {
	s, err := cyclegan.NewStep(c.model(), 1, int64(c.Size), 1)
	if err != nil {
		return "", err
	}
	sess, err := s.InitializedSession(graph.SessionConfig{})
	if err != nil {
		return "", err
	}
	defer sess.Close()
	values, err := graph.Values(sess, s.GenVars)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(work, fmt.Sprintf("export-%d", c.Size))
	os.RemoveAll(dir)
	return dir, cyclegan.Export(dir, c.model(), values)
}

// convertImages writes (once per work dir) c.ConvertImages synthetic women
// of c.Size as PNG files and returns their paths.
func convertImages(c benchConfig, work string) ([]string, error) {
	root := filepath.Join(work, fmt.Sprintf("convert-faces-%d", c.Size))
	if _, err := faces.EnsureDataset(root, faces.Options{Size: c.Size, TrainPerDomain: 1, TestPairs: c.ConvertImages, Seed: 2}); err != nil {
		return nil, err
	}
	paths := make([]string, c.ConvertImages)
	for i := range paths {
		paths[i] = filepath.Join(root, faces.TestDir, faces.Woman.String(), faces.FileName(faces.TestPairs, faces.Woman, i))
	}
	return paths, nil
}

// goConvert converts the images one at a time as the converter does: read,
// decode, translate, encode PNG, write. It returns images/s after one
// warm-up image.
func goConvert(o Options, model string, paths []string, out string) (float64, error) {
	m, err := serving.LoadModel(model, []string{cyclegan.SigWoman2Man}, graph.SessionConfig{IntraOpThreads: o.IntraOp, InterOpThreads: o.InterOp})
	if err != nil {
		return 0, err
	}
	defer m.Close()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	one := func(i int, path string) error {
		img, err := imageio.DecodeFile(path, 0)
		if err != nil {
			return err
		}
		res, err := m.Translate(cyclegan.SigWoman2Man, []*image.NRGBA{img})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := imageio.EncodePNG(&buf, res[0]); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, fmt.Sprintf("%04d.png", i)), buf.Bytes(), 0o644)
	}
	if err := one(0, paths[0]); err != nil { // warm-up
		return 0, err
	}
	start := time.Now()
	for i, p := range paths {
		if err := one(i, p); err != nil {
			return 0, err
		}
	}
	return float64(len(paths)) / time.Since(start).Seconds(), nil
}

// pyConvert is the peer's answer to a conversion request.
type pyConvert struct {
	Seconds float64 `json:"seconds"`
	Images  int     `json:"images"`
}

func benchConvert(o Options, c benchConfig, work, peer string, log *logrus.Logger) (Result, error) {
	r := Result{Kind: "convert", Config: fmt.Sprintf("%dx%d ngf%d %dblk", c.Size, c.Size, c.NGF, c.Blocks), Unit: "images/s"}
	model, err := exportRandom(c, work)
	if err != nil {
		return r, err
	}
	paths, err := convertImages(c, work)
	if err != nil {
		return r, err
	}
	var goIPS, pyIPS []float64
	var loads []string
	for round := 0; round < o.Rounds; round++ {
		for _, side := range sides(round) {
			loads = append(loads, loadAvg())
			out := filepath.Join(work, fmt.Sprintf("converted-%s-%d", side, c.Size))
			if side == "go" {
				ips, err := goConvert(o, model, paths, out)
				if err != nil {
					return r, err
				}
				goIPS = append(goIPS, ips)
				log.WithFields(logrus.Fields{"config": r.Config, "images_per_s": ips}).Info("go convert")
				continue
			}
			req := map[string]any{"mode": "convert", "model": model, "direction": cyclegan.SigWoman2Man,
				"images": paths, "out": out, "warmup": 1}
			var resp pyConvert
			if err := pycheck.RunJSONAtDefaults(peer, req, &resp); err != nil {
				return r, err
			}
			ips := float64(resp.Images) / resp.Seconds
			pyIPS = append(pyIPS, ips)
			log.WithFields(logrus.Fields{"config": r.Config, "images_per_s": ips}).Info("python convert")
		}
	}
	r.Go, r.Python = median(goIPS), median(pyIPS)
	r.Ratio = r.Go / r.Python
	r.Load = loads[0]
	return r, nil
}
