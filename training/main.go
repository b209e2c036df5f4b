// Command training trains the woman <-> man CycleGAN from Go and exports a
// SavedModel with the signatures woman2man, man2woman and serving_default.
//
//	go run ./training                     # the built-in run on synthetic faces
//	go run ./training -data ROOT -out runs/celeba
//	go run ./training -out DIR -resume    # continue an interrupted run
//	go run ./training -out DIR -export-only
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"cyclegan/graph"
	"cyclegan/internal/dataset"
	"cyclegan/internal/tfrt"
	"cyclegan/internal/tfserver"
	"cyclegan/tools/faces"

	"github.com/sirupsen/logrus"
)

func main() {
	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	// One malloc arena: see tfrt.MallocArenasEnv (it took about 110 MiB off
	// the 256x256 reference run's peak RSS).
	if err := tfrt.DefaultRuntime(false, 1); err != nil {
		log.WithError(err).Warn("runtime defaults not set: oneDNN stays off")
	}
	os.Exit(run(os.Args[1:], log))
}

// run is the whole program; it returns the exit status.
func run(args []string, log *logrus.Logger) int {
	opt, overridden, err := parseOptions(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		log.Error(err)
		return 2
	}
	log.WithFields(logrus.Fields{"tensorflow": tfrt.Version(), "onednn": tfrt.OneDNNEnabled(),
		"malloc_arenas": os.Getenv(tfrt.MallocArenasEnv)}).Info("runtime")
	if err := tfrt.Check(); err != nil {
		log.Error(err)
		return 1
	}
	if opt.ServeTask {
		if err := serveTask(opt, log); err != nil {
			log.Error(err)
			return 1
		}
		return 0
	}
	if err := train(opt, overridden, log); err != nil {
		log.Error(err)
		return 1
	}
	return 0
}

func train(opt Options, overridden []string, log *logrus.Logger) error {
	start := time.Now()
	root := opt.Data
	if root == "" {
		if len(overridden) > 0 {
			log.WithField("overridden", overridden).Info("no -data: the built-in run on synthetic faces, with its own defaults for these flags")
		}
		fo := faces.DefaultOptions()
		fo.Size = opt.syntheticSize()
		created, err := faces.EnsureDataset(opt.Synthetic, fo)
		if err != nil {
			return fmt.Errorf("synthetic faces: %w", err)
		}
		log.WithFields(logrus.Fields{"dir": opt.Synthetic, "generated": created, "per_domain": fo.TrainPerDomain,
			"size": fo.Size}).Info("synthetic faces")
		root = filepath.Join(opt.Synthetic, faces.TrainDir)
	}
	// The data is checked before the graph is built.
	files, err := dataset.Scan(root)
	if err != nil {
		return err
	}
	log.WithFields(logrus.Fields{"root": files.Root, files.NameA: len(files.A), files.NameB: len(files.B)}).Info("data")

	// SIGINT/SIGTERM: finish the step, checkpoint, exit 0. A second one aborts.
	var stop atomic.Bool
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		s := <-sigs
		log.WithField("signal", s).Warn("finishing this step and writing a checkpoint; signal again to abort")
		stop.Store(true)
		<-sigs
		log.Error("aborted")
		os.Exit(130)
	}()

	target := ""
	if opt.Cluster != "" {
		srv, err := startServer(opt, log)
		if err != nil {
			return err
		}
		target = srv.Target()
	}
	t, err := newTrainer(opt, files, log, &stop, target)
	if err != nil {
		return err
	}
	defer t.close()
	log.WithFields(logrus.Fields{"model": opt.Model.String(), "params": t.step.ParamCounts(), "size": opt.Size,
		"batch": opt.Batch, "device": opt.Model.Device, "towers": opt.Model.Towers}).Info("model")
	if err := t.start(); err != nil {
		return err
	}
	if !opt.ExportOnly {
		stopped, err := t.train(context.Background())
		if err != nil {
			return err
		}
		if stopped {
			log.WithField("step", t.st.Step).Infof("stopped; resume with: go run ./training %s-out %s -resume",
				dataFlag(opt), opt.Out)
			return nil
		}
	}
	if err := t.export(); err != nil {
		return err
	}
	log.WithFields(logrus.Fields{"steps": t.st.Step, "wall_time": time.Since(start).Round(time.Second).String(),
		"peak_rss_mb": math.Round(peakRSSMB())}).Info("done")
	return nil
}

// startServer starts this process's task of -cluster: TensorFlow's gRPC
// server, which stays up until the process exits (TensorFlow cannot stop
// it).
func startServer(opt Options, log *logrus.Logger) (*tfserver.Server, error) {
	c, err := opt.cluster()
	if err != nil {
		return nil, err
	}
	opts, err := graph.SessionOptions(opt.sessionConfig(""))
	if err != nil {
		return nil, err
	}
	def, err := c.Def(opt.Job, opt.Task, opts.Config)
	if err != nil {
		return nil, err
	}
	srv, err := tfserver.Start(def)
	if err != nil {
		return nil, err
	}
	log.WithFields(logrus.Fields{"cluster": c.String(), "job": opt.Job, "task": opt.Task, "target": srv.Target()}).Info("tensorflow server")
	return srv, nil
}

// serveTask runs a non-chief task of the cluster: the server only, until
// the process is killed; the chief's session places its tower here.
func serveTask(opt Options, log *logrus.Logger) error {
	srv, err := startServer(opt, log)
	if err != nil {
		return err
	}
	log.Info("serving until killed")
	return srv.Join()
}

func dataFlag(opt Options) string {
	if opt.Data == "" {
		return ""
	}
	return fmt.Sprintf("-data %s ", opt.Data)
}
