// Package pycheck runs the project's SavedModels in stock Python TensorFlow
// (the venv that `make tf` creates), so tests can compare its numbers with
// Go's. It is for tests; it is not part of the product.
package pycheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"cyclegan/internal/tfrt"
)

//go:embed check_savedmodel.py
var script []byte

//go:embed read_events.py
var eventsScript []byte

// Event is one summary value read back from an event file.
type Event struct {
	Step    int64   `json:"step"`
	Tag     string  `json:"tag"`
	Kind    string  `json:"kind"` // scalar or image
	Value   float64 `json:"value"`
	Width   int     `json:"width"`
	Height  int     `json:"height"`
	Decoded []int   `json:"decoded"` // the image's decoded shape
}

// Events reads every event file in logdir with TensorFlow's own reader.
func Events(logdir string) ([]Event, error) {
	var evs []Event
	if err := runEmbedded("read_events.py", eventsScript, map[string]string{"logdir": logdir}, &evs); err != nil {
		return nil, fmt.Errorf("read events in %s: %w", logdir, err)
	}
	return evs, nil
}

// Tensor is a dense tensor in row-major order, as JSON carries it.
type Tensor struct {
	DType string    `json:"dtype"` // numpy name: float32, uint8, ...
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

// Call is one signature invocation.
type Call struct {
	Signature string            `json:"signature"`
	Inputs    map[string]Tensor `json:"inputs"`
}

// Response is what Python reports.
type Response struct {
	TFVersion  string              `json:"tf_version"`
	Signatures []string            `json:"signatures"`
	Results    []map[string]Tensor `json:"results"`
}

// Python returns the interpreter of the project's venv: $CYCLEGAN_PYTHON,
// or .tf/venv/bin/python at the module root. It is an error, not a skip,
// when neither exists: run `make tf`.
func Python() (string, error) {
	if p := os.Getenv("CYCLEGAN_PYTHON"); p != "" {
		return p, nil
	}
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", ".tf", "venv", "bin", "python")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no Python TensorFlow venv (CYCLEGAN_PYTHON unset, %s missing): run `make tf`", p)
	}
	return p, nil
}

// Run loads the SavedModel in dir with tf.saved_model.load and makes calls.
func Run(dir string, calls []Call) (*Response, error) {
	var resp Response
	if err := runEmbedded("check_savedmodel.py", script, map[string]any{"dir": dir, "calls": calls}, &resp); err != nil {
		return nil, fmt.Errorf("python check of %s: %w", dir, err)
	}
	return &resp, nil
}

// runEmbedded writes one of this package's scripts to a temporary file and
// runs it with RunJSON.
func runEmbedded(name string, body []byte, req, resp any) error {
	dir, err := os.MkdirTemp("", "pycheck-script-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return err
	}
	return RunJSON(path, req, resp)
}

// RunJSON runs a Python script as `python SCRIPT REQUEST.json RESPONSE.json`
// with req encoded as JSON, and decodes the response into resp. The script
// inherits this process's environment, so its TensorFlow runs the same
// kernels as ours (tfrt.OneDNNEnv): a cross-check compares like with like.
func RunJSON(scriptPath string, req, resp any) error {
	return runJSON(scriptPath, req, resp, os.Environ())
}

// RunJSONAtDefaults is RunJSON with TensorFlow at its defaults, as a Python
// user would run the script: without tfrt.OneDNNEnv and without the other
// variables our Go programs set for themselves (tfrt.DefaultRuntime) and
// their children inherit. The benchmark's Python peer runs this way.
func RunJSONAtDefaults(scriptPath string, req, resp any) error {
	return runJSON(scriptPath, req, resp, tfrt.EnvWithout(append(tfrt.Defaulted(), tfrt.OneDNNEnv)...))
}

func runJSON(scriptPath string, req, resp any, env []string) error {
	py, err := Python()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "pycheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	data, err := json.Marshal(req)
	if err != nil {
		return err
	}
	reqPath, respPath := filepath.Join(work, "req.json"), filepath.Join(work, "resp.json")
	if err := os.WriteFile(reqPath, data, 0o644); err != nil {
		return err
	}
	if out, err := command(env, py, scriptPath, reqPath, respPath); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(scriptPath), err, out)
	}
	data, err = os.ReadFile(respPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, resp); err != nil {
		return fmt.Errorf("%s: response: %w", filepath.Base(scriptPath), err)
	}
	return nil
}

// SavedModelCLI runs `saved_model_cli show --all --dir dir` from the venv
// and returns its output.
func SavedModelCLI(dir string) (string, error) {
	py, err := Python()
	if err != nil {
		return "", err
	}
	cli := filepath.Join(filepath.Dir(py), "saved_model_cli")
	out, err := command(os.Environ(), cli, "show", "--all", "--dir", dir)
	if err != nil {
		return out, fmt.Errorf("saved_model_cli show --all --dir %s: %w\n%s", dir, err, out)
	}
	return out, nil
}

// command runs a program of the venv with env and TensorFlow's INFO logs
// and GPUs hidden.
func command(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(env, "TF_CPP_MIN_LOG_LEVEL=2", "CUDA_VISIBLE_DEVICES=")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}
