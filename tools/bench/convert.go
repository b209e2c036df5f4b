package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/pycheck"
	"cyclegan/internal/tfrt"
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

// goConvert runs the converter as users run it (./convert: its decode,
// batch, translate and encode pipeline, at its default settings and
// oneDNN default), once on the first image alone and once on all of them,
// and returns the images/s past the first: (n-1) / (elapsed(n) -
// elapsed(1)), elapsed being the converter's own wall time once its model
// is loaded. The first session run (graph optimization) is in both and
// cancels out, as the Python peer's warm-up image is outside its timing.
// The images must need several session runs (more than the converter's
// -batch of 8 small ones): images that all fit the first run's batch add
// almost nothing to elapsed(1), and the difference drowns in noise.
func goConvert(o Options, bin, model string, paths []string, out string) (float64, error) {
	if len(paths) < 2 {
		return 0, fmt.Errorf("convert: %d images, want at least 2", len(paths))
	}
	run := func(in string) (time.Duration, error) {
		os.RemoveAll(out)
		args := []string{"-model", model, "-dir", cyclegan.SigWoman2Man, "-in", in, "-out", out,
			"-intra-op-threads", strconv.Itoa(o.IntraOp), "-inter-op-threads", strconv.Itoa(o.InterOp)}
		cmd := exec.Command(bin, args...)
		cmd.Env = tfrt.ChildEnv()
		log, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("%s %v: %w\n%s", bin, args, err, log)
		}
		m := doneElapsed.FindSubmatch(log)
		if m == nil {
			return 0, fmt.Errorf("%s %v: no \"done ... elapsed=\" in its log:\n%s", bin, args, log)
		}
		return time.ParseDuration(string(m[1]))
	}
	one, err := run(paths[0])
	if err != nil {
		return 0, err
	}
	all, err := run(filepath.Dir(paths[0]))
	if err != nil {
		return 0, err
	}
	if all <= one {
		return 0, fmt.Errorf("convert: %d images took %v, the first alone %v", len(paths), all, one)
	}
	return float64(len(paths)-1) / (all - one).Seconds(), nil
}

// doneElapsed finds the converter's wall time in its closing log line.
var doneElapsed = regexp.MustCompile(`msg=done .*elapsed=(\S+)`)

// pyConvert is the peer's answer to a conversion request.
type pyConvert struct {
	Seconds float64 `json:"seconds"`
	Images  int     `json:"images"`
}

func benchConvert(o Options, c benchConfig, work, converter, peer string, log *logrus.Logger) (Result, error) {
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
				ips, err := goConvert(o, converter, model, paths, out)
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
