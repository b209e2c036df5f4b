// Package cyclegan is the CycleGAN of Zhu et al. (2017) as TensorFlow ops:
// the ResNet generators, the 70x70 PatchGAN discriminators, the losses and
// one training step's graph, and the inference graph that is exported.
//
// Domain A is women and domain B is men. G turns men into women (man2woman)
// and F turns women into men (woman2man); D_woman and D_man judge whether a
// face is a real one of their domain.
package cyclegan

import (
	"fmt"
	"slices"
)

// Config is the model's architecture and training hyper-parameters. The
// defaults (DefaultConfig) are the reference implementation's.
type Config struct {
	// Generator is GeneratorResNet (the paper's) or GeneratorUNet.
	Generator string
	// Residual makes either generator predict a change to its input rather
	// than a new image (see generatorOutput); off in the paper.
	Residual bool
	// Gate gives either generator a per-pixel gate: it outputs
	// x + m * (y - x), its input where the gate m is shut (see
	// generatorOutput); off in the paper.
	Gate      bool    `json:",omitempty"`
	NGF       int     // generator filters in the first layer (64)
	Blocks    int     // ResNet: residual blocks (9 at 256x256, 6 at 128x128)
	Upsample  string  // "transpose" (the paper's) or "resize" (nearest + conv)
	UNetDowns int     // U-Net: stride-2 levels (8 for 256x256, 7 for 128x128)
	NDF       int     // discriminator filters in the first layer (64)
	DLayers   int     // stride-2 layers of the PatchGAN (3: the 70x70 one)
	GANLoss   string  // "bce" (the original's) or "lsgan"
	Lambda    float64 // cycle-consistency weight (10)
	Identity  float64 // identity weight, as a fraction of Lambda (0.5)
	// UNetHead ends the U-Net in a head at the input's own size: its
	// outermost level outputs NGF channels, and a 3x3 conv over those and
	// the input image gives the output's (see unetHead). The reference's
	// U-Net has no skip at its outermost level, so it draws every pixel
	// from features of half the resolution.
	UNetHead bool `json:",omitempty"`
	// Change, when above 0, weights an L1 penalty on each translation's
	// change to its input: |F(woman) - woman| + |G(man) - man| (the
	// self-regularization of Shrivastava et al., 2017; off in the paper).
	// Being L1, it favours translations that leave most pixels exactly as
	// they were and change the rest as much as the discriminators ask.
	Change float64 `json:",omitempty"`
	// GateArea, when above 0, weights a penalty on how much of each
	// translation its gate opens: the mean of m over F(woman)'s and
	// G(man)'s pixels (needs Gate; off in the paper). Unlike Change, it
	// costs the same whatever the gated image draws, so it decides where a
	// translation happens without pulling what it draws back towards the
	// input.
	GateArea float64 `json:",omitempty"`
	LR       float64 // Adam learning rate (2e-4)
	Beta1    float64 // Adam beta1 (0.5)
	Beta2    float64 // Adam beta2 (0.999)
	// EMA, when above 0, is the decay of an exponential moving average of
	// the generators' weights, which is what gets exported (off in the
	// paper).
	EMA float64 `json:",omitempty"`
	// Device places the model's ops, e.g. "/device:GPU:0"; "" lets the
	// runtime choose. Soft placement falls back when it is missing.
	Device string
	// Towers, when set, splits each batch across one tower per device
	// (e.g. "/device:GPU:0", "/device:GPU:1"): data parallelism, with the
	// variables and the averaged update on Device. Not part of the model:
	// a checkpoint restores with any towers.
	Towers []string `json:",omitempty"`
}

// The generator architectures.
const (
	GeneratorResNet = "resnet"
	GeneratorUNet   = "unet"
)

// DefaultConfig returns the reference implementation's settings.
func DefaultConfig() Config {
	return Config{Generator: GeneratorResNet, NGF: 64, Blocks: 9, Upsample: "transpose", UNetDowns: 8, NDF: 64, DLayers: 3, GANLoss: "bce",
		Lambda: 10, Identity: 0.5, LR: 2e-4, Beta1: 0.5, Beta2: 0.999}
}

// Validate reports the first setting that cannot build a model.
func (c Config) Validate() error {
	switch {
	case c.Generator != GeneratorResNet && c.Generator != GeneratorUNet:
		return fmt.Errorf("generator %q: want %s or %s", c.Generator, GeneratorResNet, GeneratorUNet)
	case c.Generator == GeneratorUNet && c.UNetDowns < 1:
		return fmt.Errorf("unet-downs %d: want at least 1", c.UNetDowns)
	case c.UNetHead && c.Generator != GeneratorUNet:
		return fmt.Errorf("unet-head: only the U-Net generator has one, not %s", c.Generator)
	case c.NGF < 1:
		return fmt.Errorf("ngf %d: want at least 1", c.NGF)
	case c.Blocks < 0:
		return fmt.Errorf("blocks %d: want 0 or more", c.Blocks)
	case c.Upsample != "transpose" && c.Upsample != "resize":
		return fmt.Errorf("upsample %q: want transpose or resize", c.Upsample)
	case c.NDF < 1:
		return fmt.Errorf("ndf %d: want at least 1", c.NDF)
	case c.DLayers < 1:
		return fmt.Errorf("discriminator layers %d: want at least 1", c.DLayers)
	case c.GANLoss != "bce" && c.GANLoss != "lsgan":
		return fmt.Errorf("gan loss %q: want bce or lsgan", c.GANLoss)
	case c.Lambda < 0 || c.Identity < 0 || c.Change < 0 || c.GateArea < 0:
		return fmt.Errorf("lambda %g, identity %g, change %g, gate area %g: want non-negative weights", c.Lambda, c.Identity, c.Change, c.GateArea)
	case c.GateArea > 0 && !c.Gate:
		return fmt.Errorf("gate area %g: the penalty needs the gate", c.GateArea)
	case len(c.Towers) > 1 && slices.Contains(c.Towers, ""):
		return fmt.Errorf("towers %q: name every device", c.Towers)
	case c.EMA < 0 || c.EMA >= 1:
		return fmt.Errorf("ema %g: want 0 (off) or a decay in (0, 1)", c.EMA)
	case c.LR <= 0 || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("adam lr %g beta1 %g beta2 %g: want lr > 0 and betas in [0, 1)", c.LR, c.Beta1, c.Beta2)
	}
	return nil
}
