package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cyclegan/tools/faces"

	"github.com/chromedp/chromedp"
)

// chromium returns the path of the Chromium binary, or "" when it is not
// installed.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// pageResult is what the test reads back from the page.
type pageResult struct {
	State    string `json:"state"`
	Status   string `json:"status"`
	Download string `json:"download"`
	W        int    `json:"w"`
	H        int    `json:"h"`
	Pixels   []int  `json:"pixels"` // RGBA of the result image, drawn on a canvas
}

const readPage = `(() => {
	const img = document.getElementById("result");
	const out = {state: document.body.dataset.state, status: document.getElementById("status").textContent,
		download: document.getElementById("download").download, w: img.naturalWidth, h: img.naturalHeight, pixels: []};
	if (img.naturalWidth > 0) {
		const c = document.createElement("canvas");
		c.width = img.naturalWidth; c.height = img.naturalHeight;
		const g = c.getContext("2d");
		g.drawImage(img, 0, 0);
		out.pixels = Array.from(g.getImageData(0, 0, c.width, c.height).data);
	}
	return out;
})()`

func TestWebPageConvertsAnUploadedFaceInChromium(t *testing.T) {
	exe := chromium()
	if exe == "" {
		t.Fatal("chromium is not installed: run `make browser` (it installs Debian's chromium), then the tests again")
	}
	s, ts := testServer(t, Options{})
	dir := t.TempDir()
	faceData := encodePNG(t, face(3, faces.Woman, 64))
	facePath := filepath.Join(dir, "my face.png")
	writeFile(t, facePath, faceData)
	textPath := filepath.Join(dir, "notes.png")
	writeFile(t, textPath, []byte("a text file with an image's name"))

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	watchdog := time.AfterFunc(90*time.Second, cancel) // the browser's whole life
	defer watchdog.Stop()

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.ID("drop"))); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	for _, step := range []struct {
		name   string
		action chromedp.Action[chromedp.Void]
		until  string // JavaScript condition
		dir    string // the direction expected on screen ("" for an error)
		status string // in the status line
	}{
		{"upload a face", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{facePath}, chromedp.NodeReady),
			`document.body.dataset.done === "woman2man"`, "woman2man", "Done in"},
		{"switch to man2woman", chromedp.Click(chromedp.CSS(`input[value="man2woman"] + span`)),
			`document.body.dataset.done === "man2woman"`, "man2woman", "Done in"},
		{"upload a text file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{textPath}, chromedp.NodeReady),
			`document.body.dataset.state === "error"`, "", "not an image"},
	} {
		err := chromedp.Do(ctx, step.action,
			chromedp.Poll[chromedp.Void](step.until, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[pageResult](readPage))
			t.Fatalf("%s: %v (state %q, status %q)", step.name, err, got.State, got.Status)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult](readPage))
		if err != nil {
			t.Fatalf("%s: reading the page: %v", step.name, err)
		}
		if !strings.Contains(got.Status, step.status) {
			t.Errorf("%s: the status line says %q, want %q in it", step.name, got.Status, step.status)
		}
		if step.dir == "" {
			continue
		}
		if want := "my face-" + step.dir + ".png"; got.Download != want {
			t.Errorf("%s: the download is named %q, want %q", step.name, got.Download, want)
		}
		want := direct(t, s.model, step.dir, faceData)
		if got.W != want.Rect.Dx() || got.H != want.Rect.Dy() || len(got.Pixels) != 4*got.W*got.H {
			t.Fatalf("%s: the page shows a %dx%d result (%d values), want %v", step.name, got.W, got.H, len(got.Pixels), want.Rect.Size())
		}
		worst := 0
		for i, v := range got.Pixels {
			if i%4 != 3 {
				worst = max(worst, abs(v-int(want.Pix[i])))
			}
		}
		if worst > 1 {
			t.Errorf("%s: the image on the page differs from the model's output by %d levels", step.name, worst)
		}
	}
}
