package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cyclegan/graph"
	"cyclegan/internal/imageio"
	"cyclegan/tools/faces"

	"github.com/sirupsen/logrus"

	"cyclegan/internal/imageio/imagetest"
	"cyclegan/internal/serving"
)

// testServer serves the shared model with opt's limits (the defaults
// where opt leaves them zero).
func testServer(t *testing.T, opt Options) (*server, *httptest.Server) {
	t.Helper()
	m := loadTestModel(t)
	if opt.MaxUpload == 0 {
		opt.MaxUpload = 20 << 20
	}
	if opt.Queue == 0 {
		opt.Queue = 8
	}
	if opt.Concurrency == 0 {
		opt.Concurrency = 1
	}
	if opt.Timeout == 0 {
		opt.Timeout = time.Minute
	}
	if opt.Limits.MaxPixels == 0 {
		opt.Limits.MaxPixels = DefaultMaxPixels
	}
	if opt.Limits.MaxModelPixels == 0 {
		opt.Limits.MaxModelPixels = DefaultMaxModelPixels
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := newServer(m, opt, log)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// loadTestModel loads the shared model with both directions.
func loadTestModel(t *testing.T) *serving.Model {
	t.Helper()
	m, err := serving.LoadModel(testModel(t), serving.Directions, graph.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// post sends body to /v1/convert?dir=dir.
func post(t *testing.T, url, dir string, body io.Reader, contentType string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/v1/convert?dir="+dir, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// direct is what the model gives for the PNG or JPEG data, without HTTP.
func direct(t *testing.T, m *serving.Model, dir string, data []byte) *image.NRGBA {
	t.Helper()
	img, err := decodeInput(bytes.NewReader(data), Limits{MaxPixels: DefaultMaxPixels, MaxModelPixels: DefaultMaxModelPixels})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Translate(dir, []*image.NRGBA{img})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestServerAnswersEachKindOfRequestWithTheRightStatus(t *testing.T) {
	s, ts := testServer(t, Options{MaxUpload: 64 << 10, Limits: Limits{MaxModelPixels: 100 * 100}})
	png48 := encodePNG(t, face(1, faces.Woman, 48))
	form := func() (io.Reader, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("note", "the file comes next")
		fw, _ := w.CreateFormFile("photo", "face.png")
		fw.Write(png48)
		w.Close()
		return &buf, w.FormDataContentType()
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   func() (io.Reader, string) // body and content type
		status int
		want   string // in the body
	}{
		{"health check", "GET", "/healthz", nil, 200, `"status":"ok"`},
		{"the page", "GET", "/", nil, 200, "<title>"},
		{"a face", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) { return bytes.NewReader(png48), "image/png" }, 200, "\x89PNG"},
		{"a face in a multipart form", "POST", "/v1/convert?dir=man2woman", form, 200, "\x89PNG"},
		{"a text body", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) {
			return strings.NewReader("hello, I am not a photo"), "text/plain"
		}, 400, "the body is not an image"},
		{"an empty body", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) { return strings.NewReader(""), "image/png" }, 400, "the body is empty"},
		{"a truncated JPEG", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) {
			j := encodeJPEG(t, face(2, faces.Man, 48))
			return bytes.NewReader(j[:len(j)/2]), "image/jpeg"
		}, 400, "corrupt or truncated"},
		{"an image under 8x8", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) {
			return bytes.NewReader(encodePNG(t, image.NewGray(image.Rect(0, 0, 5, 5)))), "image/png"
		}, 400, "too small"},
		{"an upload over the limit, with Content-Length", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) {
			return bytes.NewReader(make([]byte, 65<<10)), "image/png"
		}, 413, "larger than 65536 bytes"},
		{"an upload over the limit, streamed", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) {
			return io.MultiReader(bytes.NewReader(png48), strings.NewReader(strings.Repeat("x", 65<<10))), "image/png"
		}, 413, "larger than 65536 bytes"},
		{"a decompression bomb", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) {
			return bytes.NewReader(imagetest.PNGBomb(100000, 100000)), "image/png"
		}, 413, "image too large"},
		{"more pixels than the model is fed", "POST", "/v1/convert?dir=woman2man", func() (io.Reader, string) {
			return bytes.NewReader(encodePNG(t, image.NewGray(image.Rect(0, 0, 120, 100)))), "image/png"
		}, 413, "-max-model-pixels"},
		{"an unknown direction", "POST", "/v1/convert?dir=cat2dog", func() (io.Reader, string) { return bytes.NewReader(png48), "image/png" }, 400, "want man2woman or woman2man"},
		{"no direction", "POST", "/v1/convert", func() (io.Reader, string) { return bytes.NewReader(png48), "image/png" }, 400, "want man2woman or woman2man"},
		{"GET on the API", "GET", "/v1/convert?dir=woman2man", nil, 405, "use POST"},
		{"an unknown path", "GET", "/nothing", nil, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			ct := ""
			if tc.body != nil {
				body, ct = tc.body()
			}
			req, err := http.NewRequest(tc.method, ts.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, data)
			}
			if !bytes.Contains(data, []byte(tc.want)) {
				t.Errorf("the body does not contain %q: %.200s", tc.want, data)
			}
			if resp.StatusCode >= 400 && resp.StatusCode != 404 {
				var e struct{ Error string }
				if err := json.Unmarshal(data, &e); err != nil || e.Error == "" {
					t.Errorf("error body is not JSON with a message: %s", data)
				}
			}
		})
	}
	if n := len(s.admit); n != 0 {
		t.Errorf("%d admission tokens leaked", n)
	}
}

func TestServerAnswers503WhenTheQueueIsFullAndRecovers(t *testing.T) {
	s, ts := testServer(t, Options{Queue: 2})
	png := encodePNG(t, face(1, faces.Woman, 32))
	for range s.opt.Queue { // two conversions admitted and not finishing
		s.admit <- struct{}{}
	}
	resp, body := post(t, ts.URL, "woman2man", bytes.NewReader(png), "image/png")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("with a full queue: status %d, Retry-After %q, want 503 and a Retry-After: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// The health check still answers, and reports the queue.
	hr, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Admitted, Queue int }
	json.NewDecoder(hr.Body).Decode(&h)
	hr.Body.Close()
	if hr.StatusCode != 200 || h.Admitted != 2 || h.Queue != 2 {
		t.Errorf("health with a full queue: status %d, %+v", hr.StatusCode, h)
	}
	<-s.admit
	<-s.admit
	if resp, body := post(t, ts.URL, "woman2man", bytes.NewReader(png), "image/png"); resp.StatusCode != 200 {
		t.Errorf("after the queue drained: status %d: %s", resp.StatusCode, body)
	}
}

func TestServerTimesOutARequestWaitingForAConverter(t *testing.T) {
	s, ts := testServer(t, Options{Timeout: 300 * time.Millisecond})
	s.slots <- struct{}{} // the only converter is busy
	defer func() { <-s.slots }()
	resp, body := post(t, ts.URL, "woman2man", bytes.NewReader(encodePNG(t, face(1, faces.Woman, 32))), "image/png")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "timed out") {
		t.Errorf("status %d, want 503 saying it timed out: %s", resp.StatusCode, body)
	}
}

func TestConcurrentRequestsAreAllAnsweredCorrectly(t *testing.T) {
	for _, tc := range []struct {
		name         string
		queue, slots int
		requests     int
		allowBusy    bool // a 503 is a correct answer when the queue is smaller than the load
	}{
		{"queue as large as the load", 12, 2, 12, false},
		{"queue smaller than the load", 2, 1, 12, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ts := testServer(t, Options{Queue: tc.queue, Concurrency: tc.slots})
			type input struct {
				dir  string
				data []byte
				want *image.NRGBA
			}
			var inputs []input
			for i := range tc.requests {
				dir, g := "woman2man", faces.Woman
				if i%2 == 1 {
					dir, g = "man2woman", faces.Man
				}
				data := encodePNG(t, face(uint64(i), g, 24+8*(i%3)))
				inputs = append(inputs, input{dir, data, direct(t, s.model, dir, data)})
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, busy := 0, 0
			for i, in := range inputs {
				wg.Go(func() {
					resp, err := http.Post(ts.URL+"/v1/convert?dir="+in.dir, "image/png", bytes.NewReader(in.data))
					if err != nil {
						t.Errorf("request %d: %v", i, err)
						return
					}
					defer resp.Body.Close()
					body, _ := io.ReadAll(resp.Body)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case resp.StatusCode == 503 && tc.allowBusy:
						busy++
					case resp.StatusCode != 200:
						t.Errorf("request %d: status %d: %s", i, resp.StatusCode, body)
					default:
						got, err := imageio.Decode(bytes.NewReader(body), 0)
						if err != nil {
							t.Errorf("request %d: %v", i, err)
							return
						}
						if d, err := maxDiff(got, in.want); err != nil || d != 0 {
							t.Errorf("request %d (%s): differs from the model's own output (%v, %d levels)", i, in.dir, err, d)
						}
						ok++
					}
				})
			}
			wg.Wait()
			t.Logf("%d converted, %d answered 503", ok, busy)
			if ok == 0 {
				t.Error("no request was converted")
			}
			if len(s.admit) != 0 || len(s.slots) != 0 {
				t.Errorf("tokens leaked: %d admitted, %d running", len(s.admit), len(s.slots))
			}
		})
	}
}

func TestServerShutsDownGracefullyFinishingRequestsInFlight(t *testing.T) {
	m := loadTestModel(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := newServer(m, Options{MaxUpload: 1 << 20, Queue: 4, Concurrency: 1, Timeout: time.Minute,
		Limits: Limits{MaxPixels: DefaultMaxPixels, MaxModelPixels: DefaultMaxModelPixels}}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- s.serveOn(ctx, ln) }()
	url := "http://" + ln.Addr().String()

	s.slots <- struct{}{} // hold the converter so the request stays in flight
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Post(url+"/v1/convert?dir=woman2man", "image/png", bytes.NewReader(encodePNG(t, face(1, faces.Woman, 32))))
		if err != nil {
			answer <- err.Error()
			return
		}
		resp.Body.Close()
		answer <- fmt.Sprint(resp.StatusCode)
	}()
	for len(s.admit) == 0 { // wait until it is admitted
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // SIGTERM
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("new connections are still accepted during shutdown")
	}
	select {
	case err := <-stopped:
		t.Fatalf("the server stopped with a request in flight: %v", err)
	default:
	}
	<-s.slots // let it finish
	if got := <-answer; got != "200" {
		t.Errorf("the request in flight got %s, want 200", got)
	}
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
