package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"cyclegan/graph"
	"cyclegan/internal/imageio"
	"cyclegan/internal/serving"
	"cyclegan/internal/tfrt"

	"github.com/sirupsen/logrus"
)

//go:embed page.html
var pageHTML []byte

// server is the web page and the HTTP API:
//
//	GET  /                          the page (embedded; no external assets)
//	POST /v1/convert?dir=woman2man  image body (or a multipart form's file) -> PNG
//	GET  /healthz                   JSON status
//
// At most opt.Queue conversions are admitted at once (running or waiting for
// one of opt.Concurrency run slots); one more is answered 503 at once. Each
// request has opt.Timeout. Uploads are held in memory only, never on disk.
type server struct {
	model   *serving.Model
	opt     Options
	log     logrus.FieldLogger
	admit   chan struct{} // one token per admitted conversion
	slots   chan struct{} // one token per running conversion
	running atomic.Int64
	served  atomic.Int64
}

// newServer returns the server of m with opt's limits.
func newServer(m *serving.Model, opt Options, log logrus.FieldLogger) *server {
	return &server{model: m, opt: opt, log: log,
		admit: make(chan struct{}, opt.Queue), slots: make(chan struct{}, opt.Concurrency)}
}

// Handler returns the routes, with request logging.
func (s *server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.page)
	mux.HandleFunc("/v1/convert", s.convert)
	mux.HandleFunc("/healthz", s.health)
	return s.logged(mux)
}

// serve loads the model and serves on opt.Serve until ctx is cancelled, then
// shuts down gracefully: no new connections, in-flight requests finish.
func serve(ctx context.Context, opt Options, log *logrus.Logger) error {
	dirs, err := serving.OfferedDirections(opt.Model)
	if err != nil {
		return err
	}
	m, err := serving.LoadModel(opt.Model, dirs, graph.SessionConfig{IntraOpThreads: opt.IntraOp, InterOpThreads: opt.InterOp})
	if err != nil {
		return err
	}
	defer m.Close()
	ln, err := net.Listen("tcp", opt.Serve)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.WithFields(logrus.Fields{"addr": ln.Addr().String(), "model": opt.Model, "directions": dirs,
		"max_upload": opt.MaxUpload, "queue": opt.Queue, "concurrency": opt.Concurrency, "timeout": opt.Timeout.String()}).Info("serving")
	return newServer(m, opt, log).serveOn(ctx, ln)
}

// serveOn serves on ln until ctx is cancelled.
func (s *server) serveOn(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.opt.Timeout,
		WriteTimeout:      s.opt.Timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing the requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), s.opt.Timeout+10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.WithField("served", s.served.Load()).Info("stopped")
	return nil
}

func (s *server) page(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src blob: data:; connect-src 'self'; form-action 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	w.Write(pageHTML)
}

// health reports the runtime, the directions and the queue.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	s.json(w, http.StatusOK, map[string]any{
		"status":           "ok",
		"tensorflow":       tfrt.Version(),
		"directions":       s.model.Directions(),
		"running":          s.running.Load(),
		"admitted":         len(s.admit),
		"queue":            s.opt.Queue,
		"concurrency":      s.opt.Concurrency,
		"max_upload_bytes": s.opt.MaxUpload,
		"max_pixels":       s.opt.Limits.MaxPixels,
		"max_model_pixels": s.opt.Limits.MaxModelPixels,
	})
}

// convert is POST /v1/convert?dir=D: the image in the body, the PNG back.
func (s *server) convert(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.fail(w, http.StatusMethodNotAllowed, "use POST with the image as the body")
		return
	}
	dir := r.URL.Query().Get("dir")
	if !s.model.Has(dir) {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("dir %q: want %s", dir, strings.Join(s.model.Directions(), " or ")))
		return
	}
	if r.ContentLength > s.opt.MaxUpload {
		s.fail(w, http.StatusRequestEntityTooLarge, tooBig(s.opt.MaxUpload))
		return
	}
	select {
	case s.admit <- struct{}{}:
		defer func() { <-s.admit }()
	default:
		w.Header().Set("Retry-After", "1")
		s.fail(w, http.StatusServiceUnavailable, fmt.Sprintf("busy: %d conversions are already queued; try again shortly", s.opt.Queue))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.Timeout)
	defer cancel()

	body, err := readUpload(w, r, s.opt.MaxUpload)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.fail(w, http.StatusRequestEntityTooLarge, tooBig(s.opt.MaxUpload))
			return
		}
		s.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	img, err := decodeInput(bytes.NewReader(body), s.opt.Limits)
	if err != nil {
		code, msg := statusOf(err)
		s.fail(w, code, msg)
		return
	}

	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		s.fail(w, http.StatusServiceUnavailable, "timed out waiting for a free converter")
		return
	}
	done := make(chan struct{})
	var out []*image.NRGBA
	var runErr error
	go func() {
		// The session run cannot be interrupted; the slot stays taken
		// until it ends, even when the request has timed out.
		defer func() { <-s.slots; s.running.Add(-1) }()
		s.running.Add(1)
		out, runErr = s.model.Translate(dir, []*image.NRGBA{img})
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.fail(w, http.StatusServiceUnavailable, fmt.Sprintf("the conversion took longer than %v", s.opt.Timeout))
		return
	}
	if runErr != nil {
		s.log.WithError(runErr).Error("conversion failed")
		s.fail(w, http.StatusInternalServerError, "the conversion failed")
		return
	}
	var buf bytes.Buffer
	if err := imageio.EncodePNG(&buf, out[0]); err != nil {
		s.fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", `inline; filename="`+dir+`.png"`)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	s.served.Add(1)
}

// readUpload reads the image bytes, at most limit of them: the body itself,
// or the first file of a multipart form (as curl -F sends), in memory.
func readUpload(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var src io.Reader = r.Body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, fmt.Errorf("multipart body: %w", err)
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil, errors.New("the multipart form has no file")
			}
			if err != nil {
				return nil, fmt.Errorf("multipart body: %w", err)
			}
			if p.FileName() != "" {
				src = p
				break
			}
		}
	}
	body, err := io.ReadAll(src)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the upload: %w", err)
	}
	if len(body) == 0 {
		return nil, errors.New("the body is empty: send the image as the request body")
	}
	return body, nil
}

// statusOf maps an error of decodeInput to the HTTP answer: 413 for images
// over a pixel bound, 400 for every other bad image, 500 for anything else
// (which would be the server's fault).
func statusOf(err error) (int, string) {
	switch {
	case errors.Is(err, imageio.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, imageio.ErrNotImage):
		return http.StatusBadRequest, "the body is not an image: send a JPEG, PNG, GIF, BMP, TIFF or WebP file"
	case badImage(err):
		return http.StatusBadRequest, err.Error()
	}
	return http.StatusInternalServerError, "internal error"
}

func tooBig(limit int64) string {
	return fmt.Sprintf("the upload is larger than %d bytes (%.2f MiB)", limit, float64(limit)/(1<<20))
}

// fail answers a JSON error.
func (s *server) fail(w http.ResponseWriter, code int, msg string) {
	s.json(w, code, map[string]any{"error": msg, "status": code})
}

func (s *server) json(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

// statusWriter records the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// logged logs every request with its outcome; a handler panic becomes a 500,
// never a crash.
func (s *server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.WithField("panic", p).Error("handler panic")
				if sw.code == 0 {
					s.fail(sw, http.StatusInternalServerError, "internal error")
				}
			}
			entry := s.log.WithFields(logrus.Fields{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
				"status": sw.code, "bytes": sw.bytes, "duration": time.Since(start).Round(time.Millisecond).String(), "remote": r.RemoteAddr})
			if sw.code >= 500 {
				entry.Warn("request")
			} else {
				entry.Info("request")
			}
		}()
		h.ServeHTTP(sw, r)
	})
}
