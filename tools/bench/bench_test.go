package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestQuickRunPrintsOneWellFormedJSONObjectPerMeasurement(t *testing.T) {
	var out, logs bytes.Buffer
	log := logrus.New()
	log.SetOutput(&logs)
	if code := run([]string{"-quick", "-json", "-work", t.TempDir()}, &out, log); code != 0 {
		t.Fatalf("bench -quick -json exited %d:\n%s", code, logs.String())
	}
	kinds := map[string]int{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", sc.Text(), err)
		}
		kind, _ := r["kind"].(string)
		config, _ := r["config"].(string)
		if (kind != "train" && kind != "convert") || config == "" {
			t.Errorf("line %q: kind %q, config %q", sc.Text(), kind, config)
		}
		num := func(k string) float64 {
			n, ok := r[k].(json.Number)
			if !ok {
				t.Errorf("line %q: %s is not a number", sc.Text(), k)
				return 0
			}
			f, _ := n.Float64()
			return f
		}
		g, p, ratio := num("go"), num("python"), num("ratio")
		if g <= 0 || p <= 0 || math.Abs(ratio-g/p) > 1e-9*ratio {
			t.Errorf("line %q: go %g, python %g, ratio %g (want go/python)", sc.Text(), g, p, ratio)
		}
		kinds[kind]++
	}
	if kinds["train"] != 1 || kinds["convert"] != 1 {
		t.Errorf("measurements %v, want one train and one convert:\n%s", kinds, out.String())
	}
}
