package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"time"

	"cyclegan/graph"
	"cyclegan/internal/dataset"
	"cyclegan/internal/imageio"
	"cyclegan/tools/faces"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
	"github.com/sirupsen/logrus"
)

// minTrust is the accuracy on the real test faces that the domain
// classifier needs before its verdict on translations is reported.
const minTrust = 0.99

// classifierVersion changes whenever the network or its training changes,
// so that cached checkpoints of an older classifier are not restored.
const classifierVersion = 2

// classifierConfig sets the domain classifier's input size and training.
type classifierConfig struct {
	Size  int     `json:"size"`  // images are scaled to Size x Size before classification
	Width int     `json:"width"` // filters of the first convolution, doubled by each next one
	Steps int     `json:"steps"` // Adam steps (0: untrained)
	Batch int     `json:"batch"` // images per domain per step
	LR    float64 `json:"lr"`
	Seed  int64   `json:"seed"`
	// SwapLabels trains with women as 1 and men as 0: a deliberately wrong
	// classifier, for tests of the trust check.
	SwapLabels bool `json:"swap_labels,omitempty"`
}

// classifier is a small conv net telling women (logit < 0) from men
// (logit > 0): three stride-2 4x4 convolutions with LeakyReLU, a 1x1
// convolution to one channel, and the mean over the image of that channel.
type classifier struct {
	cfg    classifierConfig
	sess   *tf.Session
	x      tf.Output // [N, Size, Size, 3] in [-1, 1]; for training women then men, N/2 each
	logits tf.Output // [N]
	loss   tf.Output
	train  *tf.Operation
	adam   *graph.Adam
	init   *tf.Operation
	saver  *graph.Saver
}

// newClassifier builds the classifier's graph and opens a session with
// freshly initialized variables.
func newClassifier(cfg classifierConfig, sc graph.SessionConfig) (*classifier, error) {
	if cfg.Size < 8 || cfg.Width < 1 || cfg.Batch < 1 || cfg.Steps < 0 || cfg.LR <= 0 {
		return nil, fmt.Errorf("classifier: size %d, batch %d, steps %d, lr %g: want size >= 8, batch >= 1, steps >= 0, lr > 0",
			cfg.Size, cfg.Batch, cfg.Steps, cfg.LR)
	}
	root := graph.NewBuilder(tf.Float, cfg.Seed)
	c := &classifier{cfg: cfg}
	c.x = root.Placeholder("images", tf.Float, -1, int64(cfg.Size), int64(cfg.Size), 3)
	net := root.Sub("classifier")
	h, in := c.x, 3
	for i, filters := range []int{cfg.Width, 2 * cfg.Width, 4 * cfg.Width} {
		h = net.Conv2D(fmt.Sprintf("conv%d", i), h, graph.Conv{Filters: filters, Kernel: 4, Stride: 2, Pad: 1, Bias: true,
			Init: graph.Normal(0, math.Sqrt(2/float64(16*in)))})
		h = net.LeakyReLU(h, 0.2)
		in = filters
	}
	h = net.Conv2D("logit", h, graph.Conv{Filters: 1, Kernel: 1, Bias: true, Init: graph.Normal(0, math.Sqrt(1/float64(in)))})
	s := net.Scope("global_mean")
	c.logits = op.Mean(s, h, op.Const(s.SubScope("axes"), []int32{1, 2, 3}))

	l := root.Sub("loss")
	halves := op.Split(l.Scope("split"), op.Const(l.Scope("axis"), int32(0)), c.logits, 2)
	c.loss = l.Scale(l.Sum(l.Sub("women").BCEWithLogits(halves[0], 0), l.Sub("men").BCEWithLogits(halves[1], 1)), 0.5)

	vars := root.TrainableUnder("classifier")
	grads, err := root.Gradients("gradients", c.loss, vars)
	if err != nil {
		return nil, fmt.Errorf("classifier gradients: %w", err)
	}
	reads := make([]*tf.Operation, len(vars))
	for i, v := range vars {
		reads[i] = v.Read.Op
	}
	c.adam = graph.NewAdam(root, "adam", cfg.LR, 0.9, 0.999, 1e-8)
	c.train = c.adam.Apply(vars, grads, reads)
	c.init = root.InitOp("init", root.Variables())
	c.saver = graph.NewSaver(root, "save", vars)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("build classifier: %w", err)
	}
	if c.sess, err = root.NewSession(sc); err != nil {
		return nil, fmt.Errorf("classifier session: %w", err)
	}
	if _, err := c.sess.Run(nil, nil, []*tf.Operation{c.init}); err != nil {
		c.close()
		return nil, fmt.Errorf("initialize classifier: %w", err)
	}
	return c, nil
}

// close releases the session.
func (c *classifier) close() {
	if c.sess != nil {
		c.sess.Close()
		c.sess = nil
	}
}

// floats scales imgs to the classifier's size and returns them as one
// NHWC batch in [-1, 1]; with mirrored, each image is followed by its
// left-right mirror image (training augmentation).
func (c *classifier) floats(imgs []*image.NRGBA, mirrored bool) ([]float32, error) {
	n := imageio.Channels * c.cfg.Size * c.cfg.Size
	flips := []bool{false}
	if mirrored {
		flips = append(flips, true)
	}
	out := make([]float32, 0, len(flips)*len(imgs)*n)
	for i, img := range imgs {
		if img.Rect.Dx() != c.cfg.Size || img.Rect.Dy() != c.cfg.Size {
			img = imageio.Resize(img, c.cfg.Size, c.cfg.Size)
		}
		for _, flip := range flips {
			k := len(out)
			out = out[:k+n]
			if err := imageio.ToFloatRegion(out[k:], img, img.Rect, flip); err != nil {
				return nil, fmt.Errorf("classifier input %d: %w", i, err)
			}
		}
	}
	return out, nil
}

// tensor makes an NHWC tensor of k images from flat values.
func (c *classifier) tensor(v []float32, k int) (*tf.Tensor, error) {
	t, err := tf.NewTensor(v)
	if err != nil {
		return nil, fmt.Errorf("classifier tensor: %w", err)
	}
	if err := t.Reshape([]int64{int64(k), int64(c.cfg.Size), int64(c.cfg.Size), 3}); err != nil {
		return nil, fmt.Errorf("classifier tensor: %w", err)
	}
	return t, nil
}

// isMan reports, for each image, whether the classifier calls it a man.
func (c *classifier) isMan(imgs []*image.NRGBA) ([]bool, error) {
	const chunk = 100
	out := make([]bool, 0, len(imgs))
	for start := 0; start < len(imgs); start += chunk {
		part := imgs[start:min(start+chunk, len(imgs))]
		v, err := c.floats(part, false)
		if err != nil {
			return nil, err
		}
		x, err := c.tensor(v, len(part))
		if err != nil {
			return nil, err
		}
		res, err := c.sess.Run(map[tf.Output]*tf.Tensor{c.x: x}, []tf.Output{c.logits}, nil)
		if err != nil {
			return nil, fmt.Errorf("classify: %w", err)
		}
		logits, err := graph.Float32s(res[0])
		if err != nil {
			return nil, fmt.Errorf("classify: %w", err)
		}
		for _, l := range logits {
			out = append(out, l > 0)
		}
	}
	return out, nil
}

// shareMan is the share of imgs that the classifier calls men.
func (c *classifier) shareMan(imgs []*image.NRGBA) (float64, error) {
	if len(imgs) == 0 {
		return 0, errors.New("classify: no images")
	}
	men, err := c.isMan(imgs)
	if err != nil {
		return 0, err
	}
	k := 0
	for _, m := range men {
		if m {
			k++
		}
	}
	return float64(k) / float64(len(men)), nil
}

// accuracy is the share of real women and men the classifier gets right.
func (c *classifier) accuracy(women, men []*image.NRGBA) (float64, error) {
	w, err := c.shareMan(women)
	if err != nil {
		return 0, err
	}
	m, err := c.shareMan(men)
	if err != nil {
		return 0, err
	}
	return (float64(len(women))*(1-w) + float64(len(men))*m) / float64(len(women)+len(men)), nil
}

// fit trains the classifier on the two domains' training images and their
// mirror images: each step takes Batch random women and Batch random men.
func (c *classifier) fit(women, men []*image.NRGBA, log logrus.FieldLogger) error {
	if len(women) == 0 || len(men) == 0 {
		return fmt.Errorf("train classifier: %d women and %d men: need both", len(women), len(men))
	}
	if c.cfg.SwapLabels {
		women, men = men, women
	}
	fw, err := c.floats(women, true)
	if err != nil {
		return err
	}
	fm, err := c.floats(men, true)
	if err != nil {
		return err
	}
	n := imageio.Channels * c.cfg.Size * c.cfg.Size
	nw, nm := len(fw)/n, len(fm)/n
	r := rand.New(rand.NewSource(c.cfg.Seed))
	batch := make([]float32, 2*c.cfg.Batch*n)
	start := time.Now()
	var loss float32
	for step := 0; step < c.cfg.Steps; step++ {
		// The learning rate falls linearly to a tenth of LR over the run,
		// so the final weights are not one noisy step's.
		if step%10 == 0 {
			lr := c.cfg.LR * (1 - 0.9*float64(step)/float64(c.cfg.Steps))
			if err := c.adam.SetLearningRate(c.sess, lr); err != nil {
				return fmt.Errorf("train classifier, step %d: %w", step, err)
			}
		}
		for i := 0; i < c.cfg.Batch; i++ {
			j, k := r.Intn(nw), r.Intn(nm)
			copy(batch[i*n:(i+1)*n], fw[j*n:(j+1)*n])
			copy(batch[(c.cfg.Batch+i)*n:(c.cfg.Batch+i+1)*n], fm[k*n:(k+1)*n])
		}
		x, err := c.tensor(batch, 2*c.cfg.Batch)
		if err != nil {
			return err
		}
		res, err := c.sess.Run(map[tf.Output]*tf.Tensor{c.x: x}, []tf.Output{c.loss}, []*tf.Operation{c.train})
		if err != nil {
			return fmt.Errorf("train classifier, step %d: %w", step, err)
		}
		loss = res[0].Value().(float32)
		if (step+1)%100 == 0 {
			log.WithFields(logrus.Fields{"step": step + 1, "loss": loss}).Debug("classifier training")
		}
	}
	log.WithFields(logrus.Fields{"steps": c.cfg.Steps, "final_loss": loss, "train_women": len(women), "train_men": len(men),
		"elapsed": time.Since(start).Round(time.Millisecond).String()}).Info("classifier trained")
	return nil
}

// cacheKey names the checkpoint of a classifier trained with cfg on the
// data set at root: a hash of the data set's manifest (or, without one, of
// its training files' names, sizes and times) and of cfg.
func cacheKey(root string, cfg classifierConfig) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "classifier v%d\n", classifierVersion)
	cj, _ := json.Marshal(cfg)
	h.Write(cj)
	manifest, err := os.ReadFile(filepath.Join(root, faces.ManifestFile))
	switch {
	case err == nil:
		h.Write(manifest)
	case errors.Is(err, fs.ErrNotExist):
		for _, g := range []string{faces.Woman.String(), faces.Man.String()} {
			paths, err := dataset.ListImages(filepath.Join(root, faces.TrainDir, g))
			if err != nil {
				return "", fmt.Errorf("classifier cache key: %w", err)
			}
			for _, p := range paths {
				st, err := os.Stat(p)
				if err != nil {
					return "", fmt.Errorf("classifier cache key: %w", err)
				}
				fmt.Fprintf(h, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
			}
		}
	default:
		return "", fmt.Errorf("classifier cache key: %w", err)
	}
	return "clf-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// classifierInfo is written next to a cached checkpoint, for people.
type classifierInfo struct {
	Config       classifierConfig `json:"config"`
	Data         string           `json:"data"`
	RealAccuracy float64          `json:"real_test_accuracy"`
	Trained      string           `json:"trained"`
}

const infoFile = "classifier.json"

// trustedClassifier returns the domain classifier for the data set at
// root: restored from dir when a checkpoint for this data set and cfg is
// there, trained on root's training split otherwise (and then cached). It
// fails when the classifier gets less than minTrust of the real test faces
// (testWomen, testMen) right.
func trustedClassifier(root, dir string, cfg classifierConfig, sc graph.SessionConfig,
	testWomen, testMen []*image.NRGBA, log logrus.FieldLogger) (*classifier, error) {
	key, err := cacheKey(root, cfg)
	if err != nil {
		return nil, err
	}
	c, err := newClassifier(cfg, sc)
	if err != nil {
		return nil, err
	}
	ckpts := &graph.Checkpoints{Dir: dir, Saver: c.saver}
	names, err := ckpts.List()
	if err != nil {
		log.WithError(err).Warn("classifier cache unreadable; training a new classifier")
	}
	log = log.WithFields(logrus.Fields{"classifier": key, "cache": dir})
	cached := slices.Contains(names, key)
	if cached {
		if _, err := ckpts.Restore(c.sess, key); err != nil {
			log.WithError(err).Warn("cached classifier does not restore; training a new one")
			cached = false
		} else {
			log.Info("classifier restored from cache")
		}
	}
	if !cached {
		women, men, err := loadTrain(root)
		if err != nil {
			c.close()
			return nil, err
		}
		if err := c.fit(women, men, log); err != nil {
			c.close()
			return nil, err
		}
	}
	acc, err := c.accuracy(testWomen, testMen)
	if err != nil {
		c.close()
		return nil, err
	}
	log = log.WithField("real_test_accuracy", acc)
	if acc < minTrust {
		c.close()
		return nil, fmt.Errorf("domain classifier is not trustworthy: it gets %.1f%% of the %d real test faces right, need >= %.0f%% (try more -classifier-steps)",
			100*acc, len(testWomen)+len(testMen), 100*minTrust)
	}
	log.Info("classifier checked on real test faces")
	if !cached {
		info, _ := json.MarshalIndent(classifierInfo{Config: cfg, Data: root, RealAccuracy: acc,
			Trained: time.Now().UTC().Format(time.RFC3339)}, "", "  ")
		if path, err := ckpts.Save(c.sess, key, map[string][]byte{infoFile: info}); err != nil {
			log.WithError(err).Warn("classifier not cached")
		} else {
			log.WithField("path", path).Info("classifier cached")
		}
	}
	return c, nil
}

// loadTrain decodes the training split's women and men.
func loadTrain(root string) (women, men []*image.NRGBA, err error) {
	if women, err = loadDir(filepath.Join(root, faces.TrainDir, faces.Woman.String())); err != nil {
		return nil, nil, err
	}
	if men, err = loadDir(filepath.Join(root, faces.TrainDir, faces.Man.String())); err != nil {
		return nil, nil, err
	}
	return women, men, nil
}

// loadDir decodes every image under dir, in lexical order.
func loadDir(dir string) ([]*image.NRGBA, error) {
	paths, err := dataset.ListImages(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s holds no images", dir)
	}
	imgs := make([]*image.NRGBA, len(paths))
	for i, p := range paths {
		if imgs[i], err = imageio.DecodeFile(p, 0); err != nil {
			return nil, err
		}
	}
	return imgs, nil
}
