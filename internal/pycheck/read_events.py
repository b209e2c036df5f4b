"""Reads TensorBoard event files with stock TensorFlow and prints JSON.

    python read_events.py REQUEST.json RESPONSE.json

REQUEST: {"logdir": DIR}. RESPONSE: [{"step": S, "tag": T, "kind": "scalar"|"image", "value": V,
"width": W, "height": H}, ...], every summary value in every event file.
"""
import glob
import json
import os
import sys

import tensorflow as tf


def main(req_path, resp_path):
    with open(req_path) as f:
        logdir = json.load(f)["logdir"]
    out = []
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for v in event.summary.value:
                rec = {"step": event.step, "tag": v.tag}
                kind = v.WhichOneof("value")
                if kind == "simple_value":
                    rec.update(kind="scalar", value=v.simple_value)
                elif kind == "image":
                    img = tf.io.decode_image(v.image.encoded_image_string)
                    rec.update(kind="image", width=v.image.width, height=v.image.height,
                               decoded=list(img.shape))
                elif kind == "tensor":
                    rec.update(kind="scalar", value=float(tf.make_ndarray(v.tensor)))
                else:
                    continue
                out.append(rec)
    with open(resp_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
