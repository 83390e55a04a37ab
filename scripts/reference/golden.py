"""The parity reference: runs the shipped model with tflite-runtime's reference kernels (no
delegates) on the committed inputs and decodes its raw outputs in numpy, independently of the
Rust code but with the same algorithm, into golden person detections.

Also writes the raw int8 output tensors (RAW_DIR/<input>.boxes and .logits, the bytes as the
model produced them), so that decoding can be checked on its own, and a sample of the generated
SSD anchors for the Rust anchor tests.

usage: golden.py MODEL LABELS INPUT_DIR OUT_JSON ANCHORS_JSON RAW_DIR
"""

import hashlib
import json
import math
import os
import sys

import cv2
import numpy as np
from tflite_runtime import interpreter as tfl

THRESHOLD = 0.4
NMS_IOU = 0.4
CLASS = "Person"
ANCHOR_SAMPLE = [0, 1, 2, 3, 500, 1082, 1083, 1084, 1088, 1089, 1500, 1682, 1800, 1900, 1911, 1916]


def anchors():
    """MediaPipe's SsdAnchorsCalculator for this model, written out longhand."""
    strides = [16, 32, 64, 128, 256, 512]
    n = len(strides)
    min_s, max_s = 0.2, 0.95
    ratios = [1.0, 2.0, 0.5, 3.0, 0.3333]

    def scale(i):
        return min_s + (max_s - min_s) * i / (n - 1)

    out = []
    for layer, stride in enumerate(strides):
        if layer == 0:
            shapes = [(0.1, 1.0), (scale(0), 2.0), (scale(0), 0.5)]
        else:
            s = scale(layer)
            s_next = 1.0 if layer == n - 1 else scale(layer + 1)
            shapes = [(s, r) for r in ratios] + [(math.sqrt(s * s_next), 1.0)]
        fm = math.ceil(300 / stride)
        for y in range(fm):
            for x in range(fm):
                for s, r in shapes:
                    out.append(((x + 0.5) / fm, (y + 0.5) / fm, s * math.sqrt(r), s / math.sqrt(r)))
    return np.array(out, dtype=np.float32)  # cx, cy, w, h


def dequant(t, detail):
    scale, zp = detail["quantization"]
    return (t.astype(np.float32) - np.float32(zp)) * np.float32(scale)


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def decode(boxes, logits, cls, anc):
    scores = 1.0 / (1.0 + np.exp(-logits[:, cls]))
    ty, tx, th, tw = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    cx = tx / 10.0 * anc[:, 2] + anc[:, 0]
    cy = ty / 10.0 * anc[:, 3] + anc[:, 1]
    w = np.exp(tw / 5.0) * anc[:, 2]
    h = np.exp(th / 5.0) * anc[:, 3]
    rects = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    cand = np.nonzero(scores >= THRESHOLD)[0]
    # Highest score first; equal scores keep anchor order.
    cand = cand[np.argsort(-scores[cand], kind="stable")]
    kept = []
    for i in cand:
        if all(iou(rects[i], rects[k]) <= NMS_IOU for k in kept):
            kept.append(i)
    return [
        {"anchor": int(i), "score": float(scores[i]), "box": [float(v) for v in rects[i]]}
        for i in kept
    ]


def main():
    model, labels_path, in_dir, out_json, anchors_json, raw_dir = sys.argv[1:7]
    os.makedirs(raw_dir, exist_ok=True)
    labels = [l.strip() for l in open(labels_path) if l.strip()]
    cls = labels.index(CLASS)
    it = tfl.Interpreter(
        model_path=model,
        experimental_op_resolver_type=tfl.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    outs = {d["name"]: d for d in it.get_output_details()}
    box_d = outs["raw_outputs/box_encodings"]
    cls_d = outs["raw_outputs/class_predictions"]
    anc = anchors()
    assert len(anc) == box_d["shape"][1] == 1917
    index = json.load(open(os.path.join(in_dir, "index.json")))
    images = []
    for entry in index:
        bgr = cv2.imread(os.path.join(in_dir, entry["input"]), cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        it.set_tensor(inp["index"], rgb[np.newaxis].astype(np.uint8))
        it.invoke()
        raw_boxes = it.get_tensor(box_d["index"])[0]
        raw_logits = it.get_tensor(cls_d["index"])[0]
        stem = os.path.splitext(entry["input"])[0]
        raw_boxes.tofile(os.path.join(raw_dir, stem + ".boxes"))
        raw_logits.tofile(os.path.join(raw_dir, stem + ".logits"))
        dets = decode(dequant(raw_boxes, box_d), dequant(raw_logits, cls_d), cls, anc)
        images.append(dict(entry, detections=dets))
        print(f"{entry['input']}: {len(dets)} {CLASS}", file=sys.stderr)
    golden = {
        "model_sha256": hashlib.sha256(open(model, "rb").read()).hexdigest(),
        "runtime": "tflite-runtime 2.14.0, reference kernels (no delegates)",
        "threshold": THRESHOLD,
        "nms_iou": NMS_IOU,
        "class": CLASS,
        "class_index": cls,
        "boxes_quant": [float(box_d["quantization"][0]), int(box_d["quantization"][1])],
        "logits_quant": [float(cls_d["quantization"][0]), int(cls_d["quantization"][1])],
        "images": images,
    }
    with open(out_json, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    sample = [{"index": i, "cx_cy_w_h": [float(v) for v in anc[i]]} for i in ANCHOR_SAMPLE]
    with open(anchors_json, "w") as f:
        json.dump({"count": len(anc), "sample": sample}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
