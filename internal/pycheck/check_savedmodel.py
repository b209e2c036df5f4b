"""Loads a SavedModel with stock TensorFlow and runs its signatures.

    python check_savedmodel.py REQUEST.json RESPONSE.json

REQUEST: {"dir": DIR, "calls": [{"signature": NAME, "inputs": {KEY:
{"dtype": "float32"|"uint8"|..., "shape": [...], "data": [...]}}}]}
RESPONSE: {"tf_version": ..., "signatures": [...], "results": [{KEY: {"dtype",
"shape", "data"}}]} -- one result per call, every output of the signature.

It uses nothing but tf.saved_model.load, the way a TensorFlow user would.
"""
import json
import sys

import numpy as np
import tensorflow as tf


def main(req_path, resp_path):
    with open(req_path) as f:
        req = json.load(f)
    model = tf.saved_model.load(req["dir"])
    results = []
    for call in req["calls"]:
        fn = model.signatures[call["signature"]]
        kwargs = {
            k: tf.constant(np.asarray(v["data"], dtype=v["dtype"]).reshape(v["shape"]))
            for k, v in call["inputs"].items()
        }
        out = fn(**kwargs)
        results.append({
            k: {"dtype": t.dtype.name, "shape": list(t.shape), "data": t.numpy().ravel().tolist()}
            for k, t in out.items()
        })
    with open(resp_path, "w") as f:
        json.dump({
            "tf_version": tf.__version__,
            "signatures": sorted(model.signatures.keys()),
            "results": results,
        }, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
