"""The Python TensorFlow peer of tools/bench: the same CycleGAN training step
and the same SavedModel conversion, written the way a TensorFlow user would
write them (Keras layers, one tf.function train step with a GradientTape, two
Keras Adam optimisers, oneDNN left at TensorFlow's default), timed the way the
Go side is timed.

    python peer.py REQUEST.json RESPONSE.json

REQUEST for a training step: {"mode": "train", "size", "ngf", "blocks",
"ndf", "dlayers", "upsample", "warmup", "steps", "seed"}.
RESPONSE: {"step_ms": [...], "params": {NAME: count}, "peak_rss_mb",
"onednn": "0"|"1"|"default", "tf_version"}.

REQUEST for conversion: {"mode": "convert", "model", "direction",
"images": [PNG paths], "out", "warmup"}. RESPONSE: {"seconds", "images",
"peak_rss_mb", ...}: one image at a time, read, decode, translate, encode
to PNG and write, as the Go side does.

The step is the one graph/cyclegan/model.go builds (and MISSION.md
describes): G and F each run once on a stacked batch of translation and
identity inputs and once more for the cycle; each discriminator judges, in
one batch, this step's fake (for the generators' adversarial loss), the real
faces and the image pool's pick (for its own loss); BCE-with-logits GAN
loss, cycle weight lambda 10 and identity 0.5 * lambda; Adam lr 2e-4,
beta1 0.5; weights from N(0, 0.02), biases zero. Only the random numbers
differ (different generators, same distributions).
"""
import json
import os
import resource
import sys
import time

import numpy as np
import tensorflow as tf
import keras

EPS = 1e-5  # instance norm epsilon, as PyTorch's InstanceNorm2d


class ReflectionPad(keras.layers.Layer):
    def __init__(self, pad, **kw):
        super().__init__(**kw)
        self.pad = pad

    def call(self, x):
        p = self.pad
        return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")


class InstanceNorm(keras.layers.Layer):
    """Instance normalisation without a learned scale and offset."""

    def call(self, x):
        mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + EPS)


def init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def conv(filters, kernel, stride=1, **kw):
    return keras.layers.Conv2D(filters, kernel, stride, padding="valid", kernel_initializer=init(), **kw)


def generator(name, size, ngf, blocks, upsample):
    x = keras.Input((size, size, 3))
    h = ReflectionPad(3)(x)
    h = keras.layers.ReLU()(InstanceNorm()(conv(ngf, 7)(h)))
    for f in (2 * ngf, 4 * ngf):
        h = keras.layers.ZeroPadding2D(1)(h)
        h = keras.layers.ReLU()(InstanceNorm()(conv(f, 3, 2)(h)))
    for _ in range(blocks):
        y = conv(4 * ngf, 3)(ReflectionPad(1)(h))
        y = keras.layers.ReLU()(InstanceNorm()(y))
        y = InstanceNorm()(conv(4 * ngf, 3)(ReflectionPad(1)(y)))
        h = keras.layers.Add()([h, y])
    for f in (2 * ngf, ngf):
        if upsample == "transpose":
            h = keras.layers.Conv2DTranspose(f, 3, 2, padding="same", kernel_initializer=init())(h)
        else:
            h = conv(f, 3)(ReflectionPad(1)(keras.layers.UpSampling2D(2)(h)))
        h = keras.layers.ReLU()(InstanceNorm()(h))
    h = conv(3, 7)(ReflectionPad(3)(h))
    return keras.Model(x, keras.layers.Activation("tanh")(h), name=name)


def discriminator(name, size, ndf, layers):
    x = keras.Input((size, size, 3))
    h = conv(ndf, 4, 2)(keras.layers.ZeroPadding2D(1)(x))
    h = keras.layers.LeakyReLU(0.2)(h)
    for n in range(1, layers + 1):
        stride = 2 if n < layers else 1
        h = conv(ndf * min(2 ** n, 8), 4, stride)(keras.layers.ZeroPadding2D(1)(h))
        h = keras.layers.LeakyReLU(0.2)(InstanceNorm()(h))
    h = conv(1, 4)(keras.layers.ZeroPadding2D(1)(h))
    return keras.Model(x, h, name=name)


def params(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train(req):
    keras.utils.set_random_seed(req["seed"])
    size, lam, idt = req["size"], 10.0, 0.5
    G = generator("G", size, req["ngf"], req["blocks"], req["upsample"])  # man -> woman
    F = generator("F", size, req["ngf"], req["blocks"], req["upsample"])  # woman -> man
    D_woman = discriminator("D_woman", size, req["ndf"], req["dlayers"])
    D_man = discriminator("D_man", size, req["ndf"], req["dlayers"])
    opt_g = keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999, epsilon=1e-8)
    opt_d = keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999, epsilon=1e-8)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    l1 = lambda a, b: tf.reduce_mean(tf.abs(a - b))
    g_vars = G.trainable_variables + F.trainable_variables
    d_vars = D_woman.trainable_variables + D_man.trainable_variables

    @tf.function
    def train_step(woman, man, pool_woman, pool_man, use_current_woman, use_current_man):
        with tf.GradientTape(persistent=True) as tape:
            fake_woman, same_woman = tf.split(G(tf.concat([man, woman], 0), training=True), 2)
            fake_man, same_man = tf.split(F(tf.concat([woman, man], 0), training=True), 2)
            rec_man = F(fake_woman, training=True)
            rec_woman = G(fake_man, training=True)
            pick = lambda cur, fake, old: tf.stop_gradient(tf.where(cur[:, None, None, None], fake, old))
            dw = tf.split(D_woman(tf.concat([fake_woman, woman, pick(use_current_woman, fake_woman, pool_woman)], 0), training=True), 3)
            dm = tf.split(D_man(tf.concat([fake_man, man, pick(use_current_man, fake_man, pool_man)], 0), training=True), 3)
            g_adv = bce(tf.ones_like(dw[0]), dw[0])
            f_adv = bce(tf.ones_like(dm[0]), dm[0])
            d_woman = 0.5 * (bce(tf.ones_like(dw[1]), dw[1]) + bce(tf.zeros_like(dw[2]), dw[2]))
            d_man = 0.5 * (bce(tf.ones_like(dm[1]), dm[1]) + bce(tf.zeros_like(dm[2]), dm[2]))
            cycle = lam * (l1(rec_woman, woman) + l1(rec_man, man))
            identity = lam * idt * (l1(same_woman, woman) + l1(same_man, man))
            g_total = g_adv + f_adv + cycle + identity
            d_total = d_woman + d_man
        opt_g.apply_gradients(zip(tape.gradient(g_total, g_vars), g_vars))
        opt_d.apply_gradients(zip(tape.gradient(d_total, d_vars), d_vars))
        return fake_woman, fake_man, g_total, d_total

    rng = np.random.default_rng(req["seed"])
    shape = (1, size, size, 3)
    batches = [(rng.uniform(-1, 1, shape).astype(np.float32), rng.uniform(-1, 1, shape).astype(np.float32)) for _ in range(4)]
    # The image pool (Shrivastava et al.), kept in NumPy as a user would:
    # the first 50 fakes are stored, then half the time an older one is
    # shown to the discriminator and replaced by the current one.
    pools = {"woman": [], "man": []}

    def plan(domain):
        p = pools[domain]
        if len(p) < 50:
            return True, np.zeros(shape, np.float32), len(p)
        if rng.random() > 0.5:
            i = int(rng.integers(50))
            return False, p[i], i
        return True, np.zeros(shape, np.float32), None

    def commit(domain, slot, fake):
        if slot is None:
            return
        if slot == len(pools[domain]):
            pools[domain].append(fake)
        else:
            pools[domain][slot] = fake

    times = []
    for step in range(req["warmup"] + req["steps"]):
        woman, man = batches[step % len(batches)]
        t0 = time.perf_counter()
        cw, old_w, slot_w = plan("woman")
        cm, old_m, slot_m = plan("man")
        fake_woman, fake_man, g_total, d_total = train_step(
            tf.constant(woman), tf.constant(man), tf.constant(old_w), tf.constant(old_m),
            tf.constant([cw]), tf.constant([cm]))
        commit("woman", slot_w, fake_woman.numpy())
        commit("man", slot_m, fake_man.numpy())
        g, d = float(g_total), float(d_total)
        if not (np.isfinite(g) and np.isfinite(d)):
            raise SystemExit("step %d: non-finite loss %g %g" % (step, g, d))
        if step >= req["warmup"]:
            times.append((time.perf_counter() - t0) * 1000)
    return {"step_ms": times, "params": {m.name: params(m) for m in (G, F, D_woman, D_man)},
            "peak_rss_mb": peak_rss_mb()}


def convert(req):
    model = tf.saved_model.load(req["model"])
    fn = model.signatures[req["direction"]]
    os.makedirs(req["out"], exist_ok=True)

    def one(i, path):
        img = tf.io.decode_png(tf.io.read_file(path), channels=3)
        out = fn(images=img[tf.newaxis])["images"][0]
        tf.io.write_file(os.path.join(req["out"], "%04d.png" % i), tf.io.encode_png(out))

    for i, path in enumerate(req["images"][: req["warmup"]]):
        one(i, path)
    t0 = time.perf_counter()
    for i, path in enumerate(req["images"]):
        one(i, path)
    return {"seconds": time.perf_counter() - t0, "images": len(req["images"]), "peak_rss_mb": peak_rss_mb()}


def main(req_path, resp_path):
    with open(req_path) as f:
        req = json.load(f)
    resp = {"train": train, "convert": convert}[req["mode"]](req)
    resp["onednn"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
    resp["tf_version"] = tf.__version__
    with open(resp_path, "w") as f:
        json.dump(resp, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
