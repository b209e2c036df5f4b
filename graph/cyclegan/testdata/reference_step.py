"""An independent computation of the CycleGAN step's losses in Python
TensorFlow, written from the paper and MISSION.md (not from the Go code),
on the weights of a checkpoint the Go trainer wrote.

    python reference_step.py REQUEST.json RESPONSE.json

REQUEST: {"checkpoint": PREFIX, "config": {...}, "inputs": {"woman", "man",
"pool_woman", "pool_man": {"shape", "data"}, "use_current_woman",
"use_current_man": [bool]}}
RESPONSE: {"losses": {NAME: value}} and, when REQUEST has "gradients": true,
"gradients": {VARIABLE: [values]}: d G_total / d every generator weight and
d (D_woman + D_man) / d every discriminator weight, taken by GradientTape.
"""
import json
import sys

import numpy as np
import tensorflow as tf


def main(req_path, resp_path):
    with open(req_path) as f:
        req = json.load(f)
    ckpt = tf.train.load_checkpoint(req["checkpoint"])
    cfg = req["config"]
    weights = {}

    def w(name):
        if name not in weights:
            weights[name] = tf.Variable(ckpt.get_tensor(name), name=name.replace("/", "_"))
        return weights[name]

    def conv(x, name, stride=1, pad=0, reflect=False):
        if pad:
            x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT" if reflect else "CONSTANT")
        return tf.nn.conv2d(x, w(name + "/kernel"), stride, "VALID") + w(name + "/bias")

    def inorm(x):
        mean, var = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return (x - mean) / tf.sqrt(var + 1e-5)

    def unet(p, h, i):
        # Level i of the U-Net (sides are multiples of 2^downs): 4x4
        # stride-2 conv down, the inner levels, 4x4 stride-2 transposed conv
        # up; the skip is the level's input.
        p = "%s/level%d" % (p, i)
        d = h
        if i > 0:
            d = tf.nn.leaky_relu(d, 0.2)
        d = conv(d, p + "/down", stride=2, pad=1)
        innermost = i == cfg["UNetDowns"] - 1
        if i > 0 and not innermost:
            d = inorm(d)
        inner = d if innermost else unet(p, d, i + 1)
        r = tf.nn.relu(inner)
        if cfg["Upsample"] == "resize":
            y = conv(tf.image.resize(r, [2 * r.shape[1], 2 * r.shape[2]], method="nearest"), p + "/up", pad=1, reflect=True)
        else:
            k = w(p + "/up/kernel")  # [4, 4, out, in]
            y = tf.nn.conv2d_transpose(r, k, [h.shape[0], 2 * r.shape[1], 2 * r.shape[2], k.shape[2]], 2, "SAME") + w(p + "/up/bias")
        if i == 0:
            return y
        return tf.concat([h, inorm(y)], axis=3)

    def output(x, y):
        # tanh(y), or with Residual the change y applied to the input x.
        # With Gate, y's fourth channel is the logit of a per-pixel blend
        # between the input and that image. Returns the image and the gate
        # (None without Gate).
        gate = None
        if cfg.get("Gate"):
            y, gate = y[..., :3], tf.sigmoid(y[..., 3:])
        if cfg.get("Residual"):
            out = tf.tanh(tf.atanh(tf.clip_by_value(x, -0.999, 0.999)) + y)
        else:
            out = tf.tanh(y)
        if cfg.get("Gate"):
            out = gate * out + (1 - gate) * x
        return out, gate

    def generator(p, x):
        if cfg["Generator"] == "unet":
            # Run at the nearest multiples of 2^downs (at least one), the
            # last layer's channels resized back to the input's size.
            m = 2 ** cfg["UNetDowns"]
            hh, ww = x.shape[1], x.shape[2]
            th, tw = max(m, (hh + m // 2) // m * m), max(m, (ww + m // 2) // m * m)
            if (th, tw) == (hh, ww):
                h = unet(p, x, 0)
            else:
                small = tf.image.resize(x, [th, tw], method="bilinear")
                h = tf.image.resize(unet(p, small, 0), [hh, ww], method="bilinear")
            if cfg.get("UNetHead"):
                # A 3x3 conv over the input and the U-Net's channels, at the
                # input's own size.
                h = conv(tf.concat([x, tf.nn.relu(h)], axis=3), p + "/head", pad=1, reflect=True)
            return output(x, h)
        h = tf.nn.relu(inorm(conv(x, p + "/c7s1", pad=3, reflect=True)))
        h = tf.nn.relu(inorm(conv(h, p + "/down1", stride=2, pad=1)))
        h = tf.nn.relu(inorm(conv(h, p + "/down2", stride=2, pad=1)))
        for i in range(1, cfg["Blocks"] + 1):
            r = "%s/res%d" % (p, i)
            y = tf.nn.relu(inorm(conv(h, r + "/conv1", pad=1, reflect=True)))
            h = h + inorm(conv(y, r + "/conv2", pad=1, reflect=True))
        for u in ("up1", "up2"):
            name = p + "/" + u
            n, hh, ww = tf.shape(h)[0], h.shape[1], h.shape[2]
            if cfg["Upsample"] == "transpose":
                k = w(name + "/kernel")  # [3, 3, out, in]
                y = tf.nn.conv2d_transpose(h, k, [n, 2 * hh, 2 * ww, k.shape[2]], 2, "SAME") + w(name + "/bias")
            else:
                y = conv(tf.image.resize(h, [2 * hh, 2 * ww], method="nearest"), name, pad=1, reflect=True)
            h = tf.nn.relu(inorm(y))
        return output(x, conv(h, p + "/out", pad=3, reflect=True))

    def discriminator(p, x):
        h = tf.nn.leaky_relu(conv(x, p + "/c1", stride=2, pad=1), 0.2)
        for n in range(1, cfg["DLayers"] + 1):
            stride = 2 if n < cfg["DLayers"] else 1
            h = tf.nn.leaky_relu(inorm(conv(h, "%s/c%d" % (p, n + 1), stride=stride, pad=1)), 0.2)
        return conv(h, p + "/patch", pad=1)

    def gan(logits, label):
        if cfg["GANLoss"] == "lsgan":
            return tf.reduce_mean(tf.square(logits - label))
        labels = tf.fill(tf.shape(logits), float(label))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))

    def tensor(name):
        v = req["inputs"][name]
        return tf.constant(np.asarray(v["data"], dtype=np.float32).reshape(v["shape"]))

    with tf.GradientTape(persistent=True) as tape:
        woman, man = tensor("woman"), tensor("man")
        lam, idt, chg, area = cfg["Lambda"], cfg["Identity"], cfg.get("Change", 0), cfg.get("GateArea", 0)
        (fake_woman, gate_g), (fake_man, gate_f) = generator("G", man), generator("F", woman)  # G: man->woman, F: woman->man
        rec_woman, rec_man = generator("G", fake_man)[0], generator("F", fake_woman)[0]
        l1 = lambda a, b: tf.reduce_mean(tf.abs(a - b))

        def pick(use, fake, pool):
            use = tf.reshape(tf.constant(req["inputs"][use]), [-1, 1, 1, 1])
            return tf.where(use, fake, pool)

        pick_woman = pick("use_current_woman", fake_woman, tensor("pool_woman"))
        pick_man = pick("use_current_man", fake_man, tensor("pool_man"))
        losses = {
            "G_adv": gan(discriminator("D_woman", fake_woman), 1),
            "F_adv": gan(discriminator("D_man", fake_man), 1),
            "cycle_woman": lam * l1(rec_woman, woman),
            "cycle_man": lam * l1(rec_man, man),
            "idt_woman": lam * idt * l1(generator("G", woman)[0], woman),
            "idt_man": lam * idt * l1(generator("F", man)[0], man),
            "D_woman": 0.5 * (gan(discriminator("D_woman", woman), 1) + gan(discriminator("D_woman", pick_woman), 0)),
            "D_man": 0.5 * (gan(discriminator("D_man", man), 1) + gan(discriminator("D_man", pick_man), 0)),
            "change_woman": chg * l1(fake_man, woman),
            "change_man": chg * l1(fake_woman, man),
            "gate_woman": area * tf.reduce_mean(gate_f) if area else 0.0,
            "gate_man": area * tf.reduce_mean(gate_g) if area else 0.0,
        }
        losses["G_total"] = sum(losses[k] for k in ("G_adv", "F_adv", "cycle_woman", "cycle_man", "idt_woman", "idt_man",
                                                    "change_woman", "change_man", "gate_woman", "gate_man"))
        d_total = losses["D_woman"] + losses["D_man"]
    resp = {"losses": {k: float(v) for k, v in losses.items()}}
    if req.get("gradients"):
        gen = {k: v for k, v in weights.items() if k.split("/")[0] in ("G", "F")}
        disc = {k: v for k, v in weights.items() if k not in gen}
        resp["gradients"] = {}
        for loss, ws in ((losses["G_total"], gen), (d_total, disc)):
            for name, g in zip(ws, tape.gradient(loss, list(ws.values()))):
                resp["gradients"][name] = np.asarray(g).ravel().tolist()
    with open(resp_path, "w") as f:
        json.dump(resp, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
