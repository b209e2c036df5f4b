package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cyclegan/graph"
	"cyclegan/graph/cyclegan"
	"cyclegan/internal/imageio"
	"cyclegan/internal/tfrt"
	"cyclegan/tools/faces"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/sirupsen/logrus"
)

// The tests share one tiny model, trained for a few steps inside the test
// binary and exported the way training exports (cyclegan.Export).
var shared struct {
	once sync.Once
	root string // temporary folder holding the export
	dir  string // the SavedModel
	err  error
}

// programEnv makes the test binary act as the convert program itself, with
// the arguments in CONVERT_TEST_ARGS (one per line) and the program's own
// oneDNN default; see runConvertProgram.
const programEnv = "CONVERT_TEST_PROGRAM"

func TestMain(m *testing.M) {
	if os.Getenv(programEnv) != "" {
		if err := tfrt.DefaultRuntime(true, 0); err != nil { // as main does
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		log := logrus.New()
		log.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
		os.Exit(run(context.Background(), strings.Split(os.Getenv("CONVERT_TEST_ARGS"), "\n"), os.Stderr, log))
	}
	code := m.Run()
	if shared.root != "" {
		os.RemoveAll(shared.root)
	}
	os.Exit(code)
}

// testModel returns the SavedModel directory of the shared tiny model.
func testModel(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		shared.root, shared.err = os.MkdirTemp("", "convert-test-model-")
		if shared.err == nil {
			shared.dir = filepath.Join(shared.root, "export")
			shared.err = trainTinyModel(shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatalf("training the test model: %v", shared.err)
	}
	return shared.dir
}

// trainTinyModel trains a CycleGAN small enough for tests (8 filters, 2
// residual blocks) for a few steps on synthetic faces, with a large learning
// rate so the weights move well away from their initial values, and exports
// it to dir.
func trainTinyModel(dir string) error {
	const n, size, steps = 2, 32, 4
	c := cyclegan.DefaultConfig()
	c.NGF, c.NDF, c.Blocks, c.DLayers = 8, 8, 2, 3
	c.LR = 0.01
	s, err := cyclegan.NewStep(c, -1, size, 11)
	if err != nil {
		return err
	}
	sess, err := s.InitializedSession(graph.SessionConfig{})
	if err != nil {
		return err
	}
	defer sess.Close()
	r := rand.New(rand.NewPCG(1, 2))
	batch := func(g faces.Gender) (*tf.Tensor, error) {
		v := make([]float32, n*size*size*3)
		for i := range n {
			img := faces.Render(faces.NewIdentity(r), g, size)
			if err := imageio.ToFloat(v[i*size*size*3:(i+1)*size*size*3], img); err != nil {
				return nil, err
			}
		}
		x, err := tf.NewTensor(v)
		if err != nil {
			return nil, err
		}
		return x, x.Reshape([]int64{n, size, size, 3})
	}
	use, _ := tf.NewTensor([]bool{true, true})
	for range steps {
		feeds := map[tf.Output]*tf.Tensor{s.UseCurrentWoman: use, s.UseCurrentMan: use}
		for o, g := range map[tf.Output]faces.Gender{s.Woman: faces.Woman, s.Man: faces.Man, s.PoolWoman: faces.Woman, s.PoolMan: faces.Man} {
			x, err := batch(g)
			if err != nil {
				return err
			}
			feeds[o] = x
		}
		if _, err := sess.Run(feeds, nil, []*tf.Operation{s.Train}); err != nil {
			return err
		}
	}
	values, err := graph.Values(sess, s.GenVars)
	if err != nil {
		return err
	}
	return cyclegan.Export(dir, c, values)
}

// runConvert runs the program in this process and returns its exit status
// and its log.
func runConvert(t testing.TB, args ...string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	code := run(context.Background(), args, &buf, log)
	return code, buf.String()
}

// runConvertProgram runs convert with args in a child process that starts as
// the program does (tfrt.DefaultRuntime), so that it converts with the
// program's kernels, and returns its exit status and output.
func runConvertProgram(t testing.TB, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(tfrt.ChildEnv(), programEnv+"=1", "CONVERT_TEST_ARGS="+strings.Join(args, "\n"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("convert child: %v\n%s", err, out)
	}
	return 0, string(out)
}

// face renders the synthetic face of identity seed.
func face(seed uint64, g faces.Gender, size int) *image.NRGBA {
	return faces.Render(faces.NewIdentity(rand.New(rand.NewPCG(seed, 7))), g, size)
}

// writeFile writes data to path, creating its folder.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeImage writes img to path as PNG or JPEG by extension.
func writeImage(t testing.TB, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := imageio.WriteFile(path, img, 90); err != nil {
		t.Fatal(err)
	}
}

// readImage decodes path the way the converter does.
func readImage(t testing.TB, path string) *image.NRGBA {
	t.Helper()
	img, err := imageio.DecodeFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// maxDiff returns the largest difference of the RGB channels of two images
// of the same size, or an error when the sizes differ.
func maxDiff(a, b *image.NRGBA) (int, error) {
	if a.Rect.Size() != b.Rect.Size() {
		return 0, fmt.Errorf("sizes differ: %v and %v", a.Rect.Size(), b.Rect.Size())
	}
	worst := 0
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			pa, pb := a.Pix[a.PixOffset(x, y):], b.Pix[b.PixOffset(x, y):]
			for c := 0; c < 3; c++ {
				worst = max(worst, abs(int(pa[c])-int(pb[c])))
			}
		}
	}
	return worst, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
