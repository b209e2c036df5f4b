package tfrt

import (
	"strings"
	"testing"
)

func TestLoadedRuntimeIsRequiredSeries(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	if v := Version(); !strings.HasPrefix(v, "2.21.") {
		t.Fatalf("Version() = %q, want 2.21.x", v)
	}
}

func TestCheckVersionRefusesOtherSeries(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"2.21.0", true},
		{"2.21.3", true},
		{"2.20.0", false},
		{"2.2.1", false},
		{"2.210.0", false},
		{"1.15.0", false},
		{"", false},
	} {
		err := checkVersion(tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("checkVersion(%q) = %v, want ok=%v", tc.v, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "make tf") {
			t.Errorf("checkVersion(%q) error %q does not say how to fix it", tc.v, err)
		}
	}
}
