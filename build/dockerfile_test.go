package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const root = ".." // the module root, from this package's directory

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDockerfilePassesHadolint(t *testing.T) {
	bin := filepath.Join(root, ".tf", "venv", "bin", "hadolint")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("hadolint is not installed (%v): run `make hadolint` (`make test` does)", err)
	}
	out, err := exec.Command(bin, filepath.Join(root, "Dockerfile")).CombinedOutput()
	if err != nil {
		t.Fatalf("hadolint Dockerfile: %v\n%s", err, out)
	}
}

// instructions returns the Dockerfile's instructions, continuation lines
// joined and comments dropped.
func instructions(dockerfile string) []string {
	var out []string
	cur := ""
	for _, line := range strings.Split(dockerfile, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == "") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		out = append(out, cur+trimmed)
		cur = ""
	}
	return out
}

// makeRules returns the Makefile's targets and their prerequisites.
func makeRules(makefile string) map[string][]string {
	rules := map[string][]string{}
	re := regexp.MustCompile(`^([A-Za-z0-9_-]+):(?:[^=]|$)(.*)$`)
	for _, line := range strings.Split(makefile, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			rules[m[1]] = strings.Fields(m[2])
		}
	}
	return rules
}

var makeCall = regexp.MustCompile(`\bmake\s+(?:-s\s+)?([A-Za-z0-9_-]+)`)

func TestDockerfileInstallsAndBuildsWithTheMakefileTargetsCIRuns(t *testing.T) {
	rules := makeRules(read(t, "Makefile"))
	// CI runs .ci/run; every target it reaches is checked on every run.
	ci := map[string]bool{}
	var visit func(string)
	visit = func(target string) {
		if ci[target] {
			return
		}
		ci[target] = true
		for _, dep := range rules[target] {
			visit(dep)
		}
	}
	for _, m := range makeCall.FindAllStringSubmatch(read(t, ".ci/run"), -1) {
		visit(m[1])
	}
	var used []string
	for _, in := range instructions(read(t, "Dockerfile")) {
		if !strings.HasPrefix(in, "RUN ") {
			continue
		}
		for _, tool := range []string{"go build", "go install", "pip install", "install-tf.sh"} {
			if strings.Contains(in, tool) {
				t.Errorf("Dockerfile runs %q itself instead of through a Makefile target: %s", tool, in)
			}
		}
		for _, m := range makeCall.FindAllStringSubmatch(in, -1) {
			used = append(used, m[1])
			if !ci[m[1]] {
				t.Errorf("Dockerfile runs `make %s`, which CI (.ci/run) never runs", m[1])
			}
		}
	}
	for _, want := range []string{"tf", "binaries"} {
		if !slices.Contains(used, want) {
			t.Errorf("Dockerfile does not run `make %s` (it runs %v)", want, used)
		}
	}
}

func TestDockerImageRunsAsNonRootAndExposesThePagePort(t *testing.T) {
	var user, expose string
	for _, in := range instructions(read(t, "Dockerfile")) {
		if v, ok := strings.CutPrefix(in, "USER "); ok {
			user = strings.TrimSpace(v) // the last stage's wins
		}
		if v, ok := strings.CutPrefix(in, "EXPOSE "); ok {
			expose = strings.TrimSpace(v)
		}
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") {
		t.Errorf("the image runs as %q, want a non-root user", user)
	}
	if expose != "8080" {
		t.Errorf("EXPOSE %q, want 8080 (the page's port in the image's command)", expose)
	}
	if !strings.Contains(read(t, "Dockerfile"), `"-serve", ":8080"`) {
		t.Error("the image's command does not serve the page on :8080")
	}
}
