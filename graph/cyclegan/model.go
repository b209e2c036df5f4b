package cyclegan

import (
	"fmt"

	"cyclegan/graph"
	"cyclegan/internal/tfrt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
)

// Network names: the variable prefixes in checkpoints and SavedModels.
const (
	NameG      = "G"       // man -> woman
	NameF      = "F"       // woman -> man
	NameDWoman = "D_woman" // is this a real woman's face?
	NameDMan   = "D_man"   // is this a real man's face?
)

// LossNames names Step.Losses, in order (as logged).
// change_woman and change_man are 0 unless Config.Change is set, gate_woman
// and gate_man unless Config.GateArea is.
var LossNames = []string{"G_adv", "F_adv", "cycle_woman", "cycle_man", "idt_woman", "idt_man", "G_total", "D_woman", "D_man",
	"change_woman", "change_man", "gate_woman", "gate_man"}

// Step is one training step's graph. Each run feeds a batch of women and
// men, plus the discriminators' fake batches chosen by the image pool:
// for each image, either this step's own translation (UseCurrent true) or
// an older one from the pool (PoolWoman / PoolMan). It updates G and F with
// one Adam, D_woman and D_man with another, and fetches the losses and this
// step's translations (for the pool).
type Step struct {
	B                  *graph.Builder
	Woman, Man         tf.Output // real batches, NHWC in [-1, 1]
	PoolWoman, PoolMan tf.Output // older fakes from the pools
	UseCurrentWoman    tf.Output // [N] bool: D_woman sees this step's fake
	UseCurrentMan      tf.Output // [N] bool: D_man sees this step's fake
	FakeWoman, FakeMan tf.Output // G(man), F(woman)
	RecWoman, RecMan   tf.Output // G(F(woman)), F(G(man))
	Losses             []tf.Output
	Train              *tf.Operation // runs ApplyG and ApplyD
	ApplyG, ApplyD     *tf.Operation // the two optimizers' updates
	OptG, OptD         *graph.Adam
	// EMA averages the generators' weights after each update (nil unless
	// Config.EMA is set); export its values rather than the weights.
	EMA               *graph.EMA
	GenVars, DiscVars []*graph.Variable
	// GenGrads and DiscGrads are the gradients the optimizers apply, in the
	// order of GenVars and DiscVars: of the total generator loss, and of
	// D_woman + D_man (with towers, the towers' mean).
	GenGrads, DiscGrads []tf.Output
	Init                *tf.Operation
	Saver               *graph.Saver
	// Towers is how many equal shares each batch is split into (1 without
	// Config.Towers); every fed batch must be a multiple of it.
	Towers int
}

// NewStep builds the training graph for images of size x size (-1 for any)
// and training batches of n images (-1 if not known). The inputs take any
// batch, so a run that only translates (the trainer's sample grid) may feed
// fewer images; n decides how the cycle passes run (see below). With
// c.Towers, every input batch is split into equal shares, one tower per
// device builds the forward pass and the gradients of its share, and the
// gradients are averaged on c.Device, where the variables and the
// optimizers live; every batch must then be a multiple of the number of
// towers, n too.
func NewStep(c Config, n, size int64, seed int64) (*Step, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	towers := c.Towers
	if len(towers) == 0 {
		towers = []string{c.Device}
	}
	k := int64(len(towers))
	if n > 0 && n%k != 0 {
		return nil, fmt.Errorf("batch %d: want a multiple of the %d towers", n, k)
	}
	root := graph.NewBuilder(tf.Float, seed)
	b := root.WithDevice(c.Device).VariablesOn(c.Device)
	s := &Step{B: root, Towers: int(k)}
	shape := []int64{-1, size, size, 3}
	in := b.Sub("inputs")
	s.Woman = in.Placeholder("woman", tf.Float, shape...)
	s.Man = in.Placeholder("man", tf.Float, shape...)
	s.PoolWoman = in.Placeholder("pool_woman", tf.Float, shape...)
	s.PoolMan = in.Placeholder("pool_man", tf.Float, shape...)
	s.UseCurrentWoman = in.Placeholder("use_current_woman", tf.Bool, -1)
	s.UseCurrentMan = in.Placeholder("use_current_man", tf.Bool, -1)

	// Every input is cut the same way, so image i of the pool feeds and
	// the use-current flags stays with image i of the batch.
	share := func(name string, x tf.Output) []tf.Output {
		if k == 1 {
			return []tf.Output{x}
		}
		return split(in, name, x, k)
	}
	ins := [][]tf.Output{share("woman_shares", s.Woman), share("man_shares", s.Man),
		share("pool_woman_shares", s.PoolWoman), share("pool_man_shares", s.PoolMan),
		share("use_current_woman_shares", s.UseCurrentWoman), share("use_current_man_shares", s.UseCurrentMan)}
	// A tower's cycle passes translate one image per generator when its
	// share of a training batch is one image (or may be: n unknown). There,
	// oneDNN's convolutions on variables fall back to GEMM, so they run as
	// two stacked halves of rows instead (graph.Builder.WithRowHalves; same
	// numbers). At two images or more the kernel already sees a batch, and
	// the halves only add copies: at batch 2 on 64x64 faces, a step took 341
	// ms without them against 388 ms with them.
	rowHalves := tfrt.OneDNNEnabled() && (n < 0 || n/k == 1)
	outs := make([]tower, k)
	for i, dev := range towers {
		outs[i] = buildTower(b.WithDevice(dev), c, rowHalves, ins[0][i], ins[1][i], ins[2][i], ins[3][i], ins[4][i], ins[5][i])
	}

	// 9. Update G and F with one Adam, D_woman and D_man with another.
	s.GenVars = append(root.TrainableUnder(NameG), root.TrainableUnder(NameF)...)
	s.DiscVars = append(root.TrainableUnder(NameDWoman), root.TrainableUnder(NameDMan)...)
	gGrads := make([][]tf.Output, k)
	dGrads := make([][]tf.Output, k)
	for i, dev := range towers {
		prefix := ""
		if k > 1 {
			prefix = fmt.Sprintf("tower_%d/", i)
		}
		var err error
		if gGrads[i], err = root.GradientsOn(prefix+"gradients_G", dev, outs[i].gTotal, s.GenVars); err != nil {
			return nil, err
		}
		if dGrads[i], err = root.GradientsOn(prefix+"gradients_D", dev, outs[i].dTotal, s.DiscVars); err != nil {
			return nil, err
		}
	}
	// Each tower's losses are means over its equal share of the batch, so
	// the mean of the towers' losses and gradients is the whole batch's.
	avg := b.Sub("tower_mean")
	for j := range LossNames {
		s.Losses = append(s.Losses, mean(avg, func(i int) tf.Output { return outs[i].losses[j] }, k))
	}
	gMean := make([]tf.Output, len(s.GenVars))
	for j := range gMean {
		gMean[j] = mean(avg, func(i int) tf.Output { return gGrads[i][j] }, k)
	}
	dMean := make([]tf.Output, len(s.DiscVars))
	for j := range dMean {
		dMean[j] = mean(avg, func(i int) tf.Output { return dGrads[i][j] }, k)
	}
	gather := func(name string, f func(t tower) tf.Output) tf.Output {
		if k == 1 {
			return f(outs[0])
		}
		xs := make([]tf.Output, k)
		for i := range outs {
			xs[i] = f(outs[i])
		}
		return concat(avg, name, xs...)
	}
	s.FakeWoman = gather("fake_woman", func(t tower) tf.Output { return t.fakeWoman })
	s.FakeMan = gather("fake_man", func(t tower) tf.Output { return t.fakeMan })
	s.RecWoman = gather("rec_woman", func(t tower) tf.Output { return t.recWoman })
	s.RecMan = gather("rec_man", func(t tower) tf.Output { return t.recMan })

	// No update may run before every read of the step's weights.
	var reads []*tf.Operation
	for _, v := range append(append([]*graph.Variable(nil), s.GenVars...), s.DiscVars...) {
		reads = append(reads, v.Read.Op)
	}
	s.OptG = graph.NewAdam(b, "adam_G", c.LR, c.Beta1, c.Beta2, 1e-8)
	s.OptD = graph.NewAdam(b, "adam_D", c.LR, c.Beta1, c.Beta2, 1e-8)
	s.GenGrads, s.DiscGrads = gMean, dMean
	s.ApplyG = s.OptG.Apply(s.GenVars, gMean, reads)
	s.ApplyD = s.OptD.Apply(s.DiscVars, dMean, reads)
	s.Train = root.Group("train", s.ApplyG, s.ApplyD)
	if c.EMA > 0 {
		s.EMA = graph.NewEMA(b, "ema_G", s.GenVars, c.EMA, s.ApplyG)
		s.Train = root.Group("train_and_average", s.Train, s.EMA.Update)
	}
	s.Init = root.InitOp("init", root.Variables())
	s.Saver = graph.NewSaver(root, "save", root.Variables())
	if err := root.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// tower is one device's share of a step: its translations and losses.
type tower struct {
	fakeWoman, fakeMan, recWoman, recMan tf.Output
	losses                               []tf.Output // in LossNames order
	gTotal, dTotal                       tf.Output
}

// buildTower adds the forward pass and losses of one share of the batch,
// placed by b; rowHalves runs its cycle passes as row halves.
func buildTower(b *graph.Builder, c Config, rowHalves bool, woman, man, poolWoman, poolMan, useWoman, useMan tf.Output) tower {
	var t tower
	// Each network runs on a batch that stacks every input it gets in this
	// step (instance norm is per image, so stacking changes no number):
	// G on [man, woman] for translation and identity, F on [woman, man].
	// 1. Translate both ways (and 6. identity, in the same batches).
	l := b.Sub("losses")
	gY, gM := generate(b, NameG, concat(b, "G_in", man, woman), c)
	fY, fM := generate(b, NameF, concat(b, "F_in", woman, man), c)
	gOut, fOut := split(b, "G_out", gY, 2), split(b, "F_out", fY, 2)
	t.fakeWoman, t.fakeMan = gOut[0], fOut[0]
	// 4. Cycle: translate back (as row halves if asked: see NewStep).
	cyc := b
	if rowHalves {
		cyc = b.WithRowHalves()
	}
	t.recMan = Generator(cyc, NameF, t.fakeWoman, c)
	t.recWoman = Generator(cyc, NameG, t.fakeMan, c)
	// 2-3. Each discriminator judges, in one batch, this step's fake (for
	// the generator's adversarial loss, against "real"), the real faces
	// (against "real") and the pool's fakes (against "fake", without
	// gradient into the generators).
	pickWoman := op.StopGradient(l.Scope("stop_woman"), poolPick(l.Sub("pick_woman"), useWoman, t.fakeWoman, poolWoman))
	pickMan := op.StopGradient(l.Scope("stop_man"), poolPick(l.Sub("pick_man"), useMan, t.fakeMan, poolMan))
	dw := split(b, "D_woman_out", Discriminator(b, NameDWoman, concat(b, "D_woman_in", t.fakeWoman, woman, pickWoman), c), 3)
	dm := split(b, "D_man_out", Discriminator(b, NameDMan, concat(b, "D_man_in", t.fakeMan, man, pickMan), c), 3)
	gAdv := ganLoss(l.Sub("G_adv"), dw[0], true, c)
	fAdv := ganLoss(l.Sub("F_adv"), dm[0], true, c)
	dWoman := l.Scale(l.Sum(ganLoss(l.Sub("D_woman_real"), dw[1], true, c), ganLoss(l.Sub("D_woman_fake"), dw[2], false, c)), 0.5)
	dMan := l.Scale(l.Sum(ganLoss(l.Sub("D_man_real"), dm[1], true, c), ganLoss(l.Sub("D_man_fake"), dm[2], false, c)), 0.5)
	// 5. Cycle-consistency loss: L1 to the original, weighted lambda.
	cycWoman := l.Scale(l.Sub("cycle_woman").L1(t.recWoman, woman), c.Lambda)
	cycMan := l.Scale(l.Sub("cycle_man").L1(t.recMan, man), c.Lambda)
	// 7. Identity loss: |G(woman) - woman| + |F(man) - man|, weighted
	// identity * lambda.
	w := c.Lambda * c.Identity
	idtW := l.Scale(l.Sub("idt_woman").L1(gOut[1], woman), w)
	idtM := l.Scale(l.Sub("idt_man").L1(fOut[1], man), w)
	// Not in the paper: the change penalty, L1 between each translation
	// and its input, weighted Change.
	gen := []tf.Output{gAdv, fAdv, cycWoman, cycMan, idtW, idtM}
	chgW, chgM := l.Scalar(0), l.Scalar(0)
	if c.Change > 0 {
		chgW = l.Scale(l.Sub("change_woman").L1(t.fakeMan, woman), c.Change)
		chgM = l.Scale(l.Sub("change_man").L1(t.fakeWoman, man), c.Change)
		gen = append(gen, chgW, chgM)
	}
	// Nor is the gate-area penalty: the mean gate each translation opens
	// (not the identity half of the batch), weighted GateArea.
	gateW, gateM := l.Scalar(0), l.Scalar(0)
	if c.GateArea > 0 {
		gateW = l.Scale(l.Sub("gate_woman").MeanAll(split(b, "F_gate", fM, 2)[0]), c.GateArea)
		gateM = l.Scale(l.Sub("gate_man").MeanAll(split(b, "G_gate", gM, 2)[0]), c.GateArea)
		gen = append(gen, gateW, gateM)
	}
	// 8. Total generator loss.
	t.gTotal = l.Sum(gen...)
	t.dTotal = l.Sum(dWoman, dMan)
	t.losses = []tf.Output{gAdv, fAdv, cycWoman, cycMan, idtW, idtM, t.gTotal, dWoman, dMan, chgW, chgM, gateW, gateM}
	return t
}

// mean averages f(0..k-1) under b; one tensor is returned as it is.
func mean(b *graph.Builder, f func(i int) tf.Output, k int64) tf.Output {
	if k == 1 {
		return f(0)
	}
	xs := make([]tf.Output, k)
	for i := range xs {
		xs[i] = f(i)
	}
	return b.Scale(b.Sum(xs...), 1/float64(k))
}

// ganLoss is the adversarial loss of PatchGAN logits against a label.
func ganLoss(b *graph.Builder, logits tf.Output, real bool, c Config) tf.Output {
	label := 0.0
	if real {
		label = 1
	}
	if c.GANLoss == "lsgan" {
		return b.MSEToLabel(logits, label)
	}
	return b.BCEWithLogits(logits, label)
}

// concat stacks NHWC batches.
func concat(b *graph.Builder, name string, xs ...tf.Output) tf.Output {
	s := b.Scope(name)
	return op.ConcatV2(s, xs, op.Const(s.SubScope("axis"), int32(0)))
}

// split cuts a stacked batch back into n equal parts. Once building has
// failed (an image too small for a network's layers), op.Split adds
// nothing and returns no outputs: split still returns n (empty) ones, so
// the callers' indexing does not panic, the ops built on them add nothing
// either, and NewStep returns the builder's error.
func split(b *graph.Builder, name string, x tf.Output, n int64) []tf.Output {
	s := b.Scope(name)
	parts := op.Split(s, op.Const(s.SubScope("axis"), int32(0)), x, n)
	if int64(len(parts)) < n {
		parts = make([]tf.Output, n)
	}
	return parts
}

// poolPick chooses, per image, this step's fake or the pool's older one.
func poolPick(b *graph.Builder, useCurrent, current, old tf.Output) tf.Output {
	return op.Select(b.Scope("select"), useCurrent, current, old)
}

// InitializedSession opens a session on the step's graph with c and runs
// every initializer: a fresh model, ready to train or to export.
func (s *Step) InitializedSession(c graph.SessionConfig) (*tf.Session, error) {
	sess, err := s.B.NewSession(c)
	if err != nil {
		return nil, err
	}
	if _, err := sess.Run(nil, nil, []*tf.Operation{s.Init}); err != nil {
		sess.Close()
		return nil, fmt.Errorf("initialize variables: %w", err)
	}
	return sess, nil
}

// ParamCounts returns the parameter counts of the four networks.
func (s *Step) ParamCounts() map[string]int64 {
	m := map[string]int64{}
	for _, n := range []string{NameG, NameF, NameDWoman, NameDMan} {
		m[n] = graph.ParamCount(s.B.TrainableUnder(n))
	}
	return m
}

// String summarizes c for logs.
func (c Config) String() string {
	g := fmt.Sprintf("generator=resnet ngf=%d blocks=%d upsample=%s", c.NGF, c.Blocks, c.Upsample)
	if c.Generator == GeneratorUNet {
		g = fmt.Sprintf("generator=unet ngf=%d downs=%d", c.NGF, c.UNetDowns)
		if c.UNetHead {
			g += " head"
		}
	}
	if c.Residual {
		g += " residual"
	}
	if c.Gate {
		g += " gate"
	}
	s := fmt.Sprintf("%s ndf=%d dlayers=%d gan=%s lambda=%g identity=%g lr=%g beta1=%g",
		g, c.NDF, c.DLayers, c.GANLoss, c.Lambda, c.Identity, c.LR, c.Beta1)
	if c.Change > 0 {
		s += fmt.Sprintf(" change=%g", c.Change)
	}
	if c.GateArea > 0 {
		s += fmt.Sprintf(" gate-area=%g", c.GateArea)
	}
	if c.EMA > 0 {
		s += fmt.Sprintf(" ema=%g", c.EMA)
	}
	return s
}
