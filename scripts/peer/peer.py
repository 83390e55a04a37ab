#!/usr/bin/env python3
# The rival picket is measured against: "the usual Python + tflite_runtime + OpenCV script",
# made real and fair. OpenCV reads the clip, the TFLite interpreter runs the shipped model, numpy
# decodes the raw SSD outputs with the same logic as picket's detector (MediaPipe SSD anchors,
# box scales 10/10/5/5, sigmoid, the "Person" label, score threshold, greedy NMS), and a simple
# IoU tracker follows the people.
#
# One script serves both runtimes (`--runtime tflite-runtime` or `--runtime litert`); each runs
# in its own venv (see scripts/bench-vs-peer.sh). It prints a human summary on stderr and one
# JSON line on stdout: frames, wall fps, CPU seconds, peak RSS, detections and tracks.
import argparse
import json
import math
import resource
import sys
import time

import cv2
import numpy as np

# MediaPipe SsdAnchorsCalculator options for this model (see models/README.md).
ANCHOR_OPTIONS = dict(
    num_layers=6,
    min_scale=0.2,
    max_scale=0.95,
    input_size=300,
    strides=[16, 32, 64, 128, 256, 512],
    aspect_ratios=[1.0, 2.0, 0.5, 3.0, 0.3333],
    interpolated_scale_aspect_ratio=1.0,
    reduce_boxes_in_lowest_layer=True,
    offset=0.5,
)
# Box encodings are (ty, tx, th, tw) scaled by these.
Y_SCALE, X_SCALE, H_SCALE, W_SCALE = 10.0, 10.0, 5.0, 5.0


def ssd_anchors(o=ANCHOR_OPTIONS):
    """Anchors as an (N, 4) array of (cy, cx, h, w), normalised, in the model's output order."""

    def scale(i):
        n = o["num_layers"]
        return o["min_scale"] + (o["max_scale"] - o["min_scale"]) * i / (n - 1)

    anchors = []
    layer = 0
    n = o["num_layers"]
    strides = o["strides"]
    while layer < n:
        ratios, scales = [], []
        last = layer
        while last < n and strides[last] == strides[layer]:
            s = scale(last)
            if last == 0 and o["reduce_boxes_in_lowest_layer"]:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, s, s]
            else:
                for r in o["aspect_ratios"]:
                    ratios.append(r)
                    scales.append(s)
                s_next = 1.0 if last == n - 1 else scale(last + 1)
                ratios.append(o["interpolated_scale_aspect_ratio"])
                scales.append(math.sqrt(s * s_next))
            last += 1
        sizes = [(sc / math.sqrt(r), sc * math.sqrt(r)) for r, sc in zip(ratios, scales)]
        fm = math.ceil(o["input_size"] / strides[layer])
        for y in range(fm):
            for x in range(fm):
                for h, w in sizes:
                    anchors.append(((y + o["offset"]) / fm, (x + o["offset"]) / fm, h, w))
        layer = last
    return np.array(anchors, dtype=np.float32)


def dequantize(t, detail):
    scale, zero = detail["quantization"]
    if scale == 0:
        return t.astype(np.float32)
    return (t.astype(np.float32) - zero) * scale


def nms(boxes, scores, iou_max):
    """Greedy NMS: highest score first (stable on ties); drop boxes with IoU > iou_max."""
    order = np.argsort(-scores, kind="stable")
    keep = []
    areas = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.maximum(np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0]), 0)
        ih = np.maximum(np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1]), 0)
        inter = iw * ih
        union = areas[i] + areas[rest] - inter
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
        order = rest[iou <= iou_max]
    return keep


class Decoder:
    """Raw SSD outputs to person boxes (x0, y0, x1, y1, score), normalised."""

    def __init__(self, interp, person, threshold, iou):
        outs = interp.get_output_details()
        by_last = {d["shape"][-1]: d for d in outs}
        self.box_out, self.cls_out = by_last[4], [d for d in outs if d["shape"][-1] != 4][0]
        self.anchors = ssd_anchors()
        if self.box_out["shape"][1] != len(self.anchors):
            sys.exit(f"model has {self.box_out['shape'][1]} boxes, anchors {len(self.anchors)}")
        self.person, self.threshold, self.iou = person, threshold, iou

    def decode(self, interp):
        cls = dequantize(interp.get_tensor(self.cls_out["index"])[0, :, self.person], self.cls_out)
        scores = 1.0 / (1.0 + np.exp(-cls))
        idx = np.nonzero(scores >= self.threshold)[0]
        if idx.size == 0:
            return np.zeros((0, 5), np.float32)
        enc = dequantize(interp.get_tensor(self.box_out["index"])[0, idx], self.box_out)
        a = self.anchors[idx]
        cy = enc[:, 0] / Y_SCALE * a[:, 2] + a[:, 0]
        cx = enc[:, 1] / X_SCALE * a[:, 3] + a[:, 1]
        h = np.exp(enc[:, 2] / H_SCALE) * a[:, 2]
        w = np.exp(enc[:, 3] / W_SCALE) * a[:, 3]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        keep = nms(boxes, scores[idx], self.iou)
        return np.concatenate([boxes[keep], scores[idx][keep, None]], axis=1)


def iou1(a, b):
    iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class IouTracker:
    """Greedy IoU matching; a track is confirmed after `hits` matches, dropped after `max_age`
    missed frames."""

    def __init__(self, iou_min=0.3, hits=3, max_age=5):
        self.iou_min, self.hits, self.max_age = iou_min, hits, max_age
        self.tracks = []  # dicts: id, box, hits, missed
        self.next_id = 1
        self.confirmed_ids = set()

    def update(self, dets):
        pairs = sorted(
            ((iou1(t["box"], d), ti, di) for ti, t in enumerate(self.tracks) for di, d in enumerate(dets)),
            reverse=True,
        )
        used_t, used_d = set(), set()
        for iou, ti, di in pairs:
            if iou < self.iou_min:
                break
            if ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            t = self.tracks[ti]
            t["box"], t["hits"], t["missed"] = dets[di][:4], t["hits"] + 1, 0
            if t["hits"] >= self.hits:
                self.confirmed_ids.add(t["id"])
        for ti, t in enumerate(self.tracks):
            if ti not in used_t:
                t["missed"] += 1
        self.tracks = [t for t in self.tracks if t["missed"] <= self.max_age]
        for di, d in enumerate(dets):
            if di not in used_d:
                self.tracks.append(dict(id=self.next_id, box=d[:4], hits=1, missed=0))
                self.next_id += 1


def load_interpreter(runtime, model, threads):
    if runtime == "tflite-runtime":
        from tflite_runtime.interpreter import Interpreter
    else:
        from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_path=model, num_threads=threads)
    interp.allocate_tensors()
    return interp


def main():
    p = argparse.ArgumentParser(description="Python + TFLite + OpenCV person detection and tracking, timed.")
    p.add_argument("clip")
    p.add_argument("--model", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--runtime", choices=["tflite-runtime", "litert"], required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--max-frames", type=int, default=0, help="0: the whole clip")
    p.add_argument("--threshold", type=float, default=0.4)
    p.add_argument("--iou", type=float, default=0.4)
    args = p.parse_args()

    cv2.setNumThreads(args.threads)
    labels = [l.strip() for l in open(args.labels, encoding="utf-8")]
    person = labels.index("Person")
    interp = load_interpreter(args.runtime, args.model, args.threads)
    inp = interp.get_input_details()[0]
    _, ih, iw, _ = inp["shape"]
    decoder = Decoder(interp, person, args.threshold, args.iou)
    tracker = IouTracker()

    cap = cv2.VideoCapture(args.clip)
    if not cap.isOpened():
        sys.exit(f"cannot open {args.clip}")
    frames = detections = 0
    t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    while not args.max_frames or frames < args.max_frames:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(cv2.resize(bgr, (iw, ih), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
        interp.set_tensor(inp["index"], rgb[None])
        interp.invoke()
        dets = decoder.decode(interp)
        tracker.update(dets)
        frames += 1
        detections += len(dets)
    wall = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    out = dict(
        runtime=args.runtime,
        threads=args.threads,
        frames=frames,
        wall_s=round(wall, 3),
        wall_fps=round(frames / wall, 2) if wall else 0.0,
        cpu_s=round(cpu, 3),
        cpu_total_s=round(c1.ru_utime + c1.ru_stime, 3),
        frames_per_cpu_s=round(frames / cpu, 2) if cpu else 0.0,
        peak_rss_mib=round(c1.ru_maxrss / 1024, 1),
        detections=detections,
        tracks=len(tracker.confirmed_ids),
    )
    print(
        f"{args.runtime} x{args.threads}: {frames} frames, {out['wall_fps']} fps wall, "
        f"{out['cpu_s']} CPU-s ({out['frames_per_cpu_s']} frames/CPU-s), "
        f"peak RSS {out['peak_rss_mib']} MiB, {detections} detections, {out['tracks']} tracks",
        file=sys.stderr,
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
