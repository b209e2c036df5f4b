package cyclegan

import (
	"strings"
	"testing"
)

func TestValidateNamesTheSettingThatCannotBuildAModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *Config)
		want string // in the error; "" for a valid config
	}{
		{"the reference's settings", func(c *Config) {}, ""},
		{"the change penalty", func(c *Config) { c.Change = 2 }, ""},
		{"negative change penalty", func(c *Config) { c.Change = -1 }, "change -1"},
		{"the gate-area penalty", func(c *Config) { c.Gate, c.GateArea = true, 1 }, ""},
		{"negative gate-area penalty", func(c *Config) { c.Gate, c.GateArea = true, -1 }, "gate area -1"},
		{"gate-area penalty without a gate", func(c *Config) { c.GateArea = 1 }, "needs the gate"},
		{"negative identity weight", func(c *Config) { c.Identity = -0.5 }, "identity -0.5"},
		{"the U-Net's head", func(c *Config) { c.Generator, c.UNetHead = GeneratorUNet, true }, ""},
		{"a head on the ResNet", func(c *Config) { c.UNetHead = true }, "only the U-Net generator has one"},
		{"unknown generator", func(c *Config) { c.Generator = "vae" }, `generator "vae"`},
		{"unknown upsampling", func(c *Config) { c.Upsample = "bilinear" }, `upsample "bilinear"`},
		{"ema decay of 1", func(c *Config) { c.EMA = 1 }, "ema 1"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}
