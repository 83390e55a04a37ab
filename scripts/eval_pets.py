#!/usr/bin/env python3
"""Scores picket on PETS09-S2L1 (vtest.avi) against the MOTChallenge labels of frames 1-400.

Frames 1-200 tune, 201-400 report. scripts/eval-pets.sh prepares the work directory (JPEG
frames `frames-1-200/`, `frames-201-400/` and MJPEG clips `clip-1-200.mjpeg`,
`clip-201-400.mjpeg`, `clip-1-400.mjpeg`) and runs this in a venv with motmetrics and
matplotlib. Steps:

  detect  `picket eval-detect` for tiles 1x1, 2x1, 2x2, auto (the built-in default, no config)
          and roi = "zones" on the walkway zone of board/config/demo.toml; time a frame as
          the median over ROUNDS alternating rounds, and its ratio to 1x1.
  sweep   on the tuning half only: tile overlap, whole-frame pass, NMS IoU, threshold.
  pr      precision-recall curves of the default detector (one run per threshold) and of
          1x1 on the tuning half, as a PNG, and the threshold with the best F1.
  lines   `line_cross` events of `picket run` (default config, a vertical line at x = 0.5)
          per direction against the crossings of the labelled feet (reference_crossings).
  mot     `picket run --tracks-out` on frames 1-400, default and tiles = "1x1", scored with
          motmetrics: MOTA, IDF1.

The labels are read from --gt and never written anywhere but the work directory.
"""

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys

W, H = 768, 576
FPS = 7  # PETS09-S2L1's capture rate (MOTChallenge seqinfo); the AVI container says 10.
HALVES = ((1, 200), (201, 400))
BAND = 0.02  # half-width of the band around the line, as [[lines]] hysteresis defaults to

# The camera's size: a config without it is checked as a 640x480 V4L2 camera, on which 2x2 is
# refused.
SOURCE = f"[source]\nwidth = {W}\nheight = {H}\n\n"

# The grey walkway of board/config/demo.toml, for roi = "zones".
WALKWAY = "[[0.0, 0.32], [1.0, 0.28], [1.0, 0.85], [0.6, 0.80], [0.0, 0.52]]"
CONFIGS = {
    "1x1": SOURCE + '[detector]\ntiles = "1x1"\n',
    "2x1": SOURCE + '[detector]\ntiles = "2x1"\n',
    "2x2": SOURCE + '[detector]\ntiles = "2x2"\n',
    "auto (default)": None,
    "roi walkway": (SOURCE + '[detector]\nroi = "zones"\n\n[[zones]]\nname = "walkway"\n'
                    f"polygon = {WALKWAY}\n"),
}


def read_gt(path):
    """[(frame, id, x, y, w, h, flag)] from a MOTChallenge gt.txt."""
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            v = line.strip().split(",")
            if len(v) < 7:
                continue
            try:
                rows.append((int(v[0]), int(float(v[1])), float(v[2]), float(v[3]),
                             float(v[4]), float(v[5]), int(float(v[6]))))
            except ValueError as e:
                sys.exit(f"{path}:{n}: not a MOTChallenge line ({e})")
    return rows


def write_gt(rows, lo, hi, path):
    """The labels of frames lo..hi, renumbered from 1."""
    with open(path, "w") as f:
        for fr, i, x, y, w, h, flag in rows:
            if lo <= fr <= hi:
                f.write(f"{fr - lo + 1},{i},{x},{y},{w},{h},{flag},-1,-1,-1\n")


def config_file(work, name, text):
    if text is None:
        return None
    path = os.path.join(work, re.sub(r"[^a-z0-9]+", "-", name) + ".toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def picket(args, *cmd):
    out = subprocess.run([args.picket, *cmd], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"picket {' '.join(cmd)} failed:\n{out.stderr}")
    return out.stdout


def eval_detect(args, half, cfg):
    """eval-detect's figures: {ap50, ap30, r05, r1, ms}."""
    lo, hi = half
    gt = os.path.join(args.work, f"gt-{lo}-{hi}.txt")
    cmd = ["eval-detect", "--frames", os.path.join(args.work, f"frames-{lo}-{hi}"), "--gt", gt]
    if cfg:
        cmd += ["-c", cfg]
    out = picket(args, *cmd)
    num = r"([0-9.]+)"
    pats = {"ap50": rf"AP@0\.5 {num}", "ap30": rf"AP@0\.3 {num}",
            "r05": rf"at 0\.5 FP/frame {num}", "r1": rf"at 1 FP/frame {num}",
            "ms": rf"median {num} ms"}
    got = {}
    for k, p in pats.items():
        m = re.search(p, out)
        if not m:
            sys.exit(f"eval-detect printed no {k}:\n{out}")
        got[k] = float(m.group(1))
    return got


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def detect(args):
    names = list(CONFIGS)
    cfgs = {n: config_file(args.work, n, CONFIGS[n]) for n in names}
    res = {}
    for half in HALVES:
        times = {n: [] for n in names}
        # Times are reported for the report half; the tuning half is scored once.
        rounds = args.rounds if half == HALVES[1] else 1
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for n in order:
                got = eval_detect(args, half, cfgs[n])
                res.setdefault((half, n), got)
                times[n].append(got["ms"])
            print(f"  frames {half[0]}-{half[1]} round {r + 1} done", file=sys.stderr)
        for n in names:
            res[(half, n)]["ms"] = median(times[n])
    for half in HALVES:
        base = res[(half, "1x1")]["ms"]
        rounds = args.rounds if half == HALVES[1] else 1
        print(f"\nframes {half[0]}-{half[1]} (time: median of {rounds} alternating rounds)\n")
        print("| tiles | AP@0.5 | AP@0.3 | recall at 0.5 FP/frame | at 1 FP/frame | ms/frame | × 1x1 |")
        print("|---|---|---|---|---|---|---|")
        for n in names:
            g = res[(half, n)]
            print(f"| {n} | {g['ap50']:.3f} | {g['ap30']:.3f} | {g['r05']:.3f} | {g['r1']:.3f} "
                  f"| {g['ms']:.1f} | {g['ms'] / base:.2f} |")


SWEEP = {
    "default": "",
    "overlap 0.1": "tile_overlap = 0.1\n",
    "overlap 0.3": "tile_overlap = 0.3\n",
    "whole-frame pass on": "tile_whole_frame = true\n",
    "nms_iou 0.3": "nms_iou = 0.3\n",
    "nms_iou 0.5": "nms_iou = 0.5\n",
    "nms_iou 0.6": "nms_iou = 0.6\n",
    "threshold 0.25": "threshold = 0.25\n",
    "threshold 0.3": "threshold = 0.3\n",
    "threshold 0.4": "threshold = 0.4\n",
    "threshold 0.45": "threshold = 0.45\n",
    "threshold 0.5": "threshold = 0.5\n",
}


def sweep(args, only=None):
    print("\nsweep on frames 1-200 (tiles auto)\n")
    print("| change | AP@0.5 | AP@0.3 | recall at 0.5 FP/frame | ms/frame |")
    print("|---|---|---|---|---|")
    for name, text in SWEEP.items():
        if only and name not in only:
            continue
        cfg = config_file(args.work, "sweep " + name, SOURCE + "[detector]\n" + text)
        g = eval_detect(args, HALVES[0], cfg)
        print(f"| {name} | {g['ap50']:.3f} | {g['ap30']:.3f} | {g['r05']:.3f} | {g['ms']:.1f} |")


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / u if u > 0 else 0.0


def pr_points(dets, gt, lo, hi):
    """(score, precision, recall) after each detection, best first, matched greedily at IoU
    0.5 as eval-detect does; detections on ignore regions left out."""
    truth = {}
    for fr, _, x, y, w, h, flag in gt:
        if lo <= fr <= hi:
            truth.setdefault(fr, []).append(((x, y, x + w, y + h), flag == 0))
    people = sum(1 for v in truth.values() for _, ign in v if not ign)
    used = set()
    tp = fp = 0
    pts = []
    for fr, score, box in sorted(dets, key=lambda d: -d[1]):
        best, bi = 0.5, None
        for i, (t, ign) in enumerate(truth.get(fr, [])):
            o = iou(box, t)
            if not ign and (fr, i) not in used and o >= best:
                best, bi = o, i
        if bi is not None:
            used.add((fr, bi))
            tp += 1
        elif any(ign and iou(box, t) >= 0.5 for t, ign in truth.get(fr, [])):
            continue
        else:
            fp += 1
        pts.append((score, tp / (tp + fp), tp / people))
    return pts


def detections(args, lo, hi, tiles, threshold):
    d = os.path.join(args.work, f"frames-{lo}-{hi}")
    files = sorted(os.path.join(d, f) for f in os.listdir(d))
    out = json.loads(picket(args, "detect", "--json", "--threshold", str(threshold),
                            "--tiles", tiles, *files))
    dets = []
    for rep in out:
        fr = int(os.path.splitext(os.path.basename(rep["image"]))[0])
        for x in rep["detections"]:
            p = x["pixels"]
            dets.append((fr, x["score"], (p["x0"], p["y0"], p["x1"], p["y1"])))
    return dets


PR_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)


def f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def pr(args, gt):
    """The whole frame's curve is one run at a low threshold: lowering it only adds boxes.
    Tiles are not: the merge joins a cut box into a person's box (their union), so a low
    threshold also changes the boxes above it. Their curve is one run per threshold, each
    run's end point (all its boxes)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lo, hi = HALVES[0]
    frames = hi - lo + 1
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    print(f"\nprecision-recall, frames {lo}-{hi}, IoU 0.5 (auto: one run per threshold)\n")
    print("| tiles | threshold | precision | recall | F1 | false per frame |")
    print("|---|---|---|---|---|---|")
    whole = pr_points(detections(args, lo, hi, "1x1", 0.1), gt, lo, hi)
    ax.plot([p[2] for p in whole], [p[1] for p in whole], "--", label="tiles 1x1 (whole frame)")
    ends = []
    for t in PR_THRESHOLDS:
        pts = pr_points(detections(args, lo, hi, "auto", t), gt, lo, hi)
        _, prec, rec = pts[-1]
        ends.append((t, prec, rec))
        print(f"| auto | {t:.2f} | {prec:.3f} | {rec:.3f} | {f1(prec, rec):.3f} "
              f"| {len(pts) * (1 - prec) / frames:.2f} |")
        above = [p for p in whole if p[0] >= t]
        if above:
            _, wp, wr = above[-1]
            print(f"| 1x1 | {t:.2f} | {wp:.3f} | {wr:.3f} | {f1(wp, wr):.3f} "
                  f"| {len(above) * (1 - wp) / frames:.2f} |")
    ax.plot([e[2] for e in ends], [e[1] for e in ends], "o-", ms=3, label="tiles auto (default)")
    for t, prec, rec in ends:
        ax.annotate(f"{t:.2f}", (rec, prec), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)
    best = max(ends, key=lambda e: f1(e[1], e[2]))
    print(f"\nauto: best F1 {f1(best[1], best[2]):.3f} at threshold {best[0]:.2f}")
    ax.set_xlabel("recall (IoU ≥ 0.5)")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Person detection, PETS09-S2L1 frames 1-200 (labels: thresholds)", fontsize=9)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(args.png)
    print(f"\nwrote {args.png}")


def reference_crossings(gt, lo, hi, x=0.5, band=BAND):
    """Crossings of the vertical line at x by the labelled feet (box bottom centre), frames
    lo..hi: a person's side is known once the foot is outside the band x ± band, and each
    change of that side counts once, in the direction of the change. Returns (ltr, rtl)."""
    side = {}
    ltr = rtl = 0
    for fr, i, bx, by, w, h, flag in sorted(gt):
        if not (lo <= fr <= hi) or flag == 0:
            continue
        fx = (bx + w / 2) / W
        if abs(fx - x) < band:
            continue
        s = 1 if fx > x else -1
        if side.get(i, s) != s:
            ltr += s > 0
            rtl += s < 0
        side[i] = s
    return ltr, rtl


LINE_RULES = """
# A vertical line at x = 0.5, drawn upwards so that walking to the right is left_to_right.
[[lines]]
name = "mid"
a = [0.5, 1.0]
b = [0.5, 0.0]

[[rules]]
name = "cross"
kind = "line_cross"
line = "mid"
retrigger = "every"
retrigger_s = 0
"""


def run(args, clip, extra="", tracks=None):
    """`picket run` over a clip with the default config plus `extra`; the journal's
    line_cross events as (ltr, rtl)."""
    tag = os.path.basename(clip) + re.sub(r"[^a-z0-9]+", "-", extra)[:20]
    cfg = config_file(args.work, "run " + tag, (
        f'[source]\nkind = "file"\npath = "{clip}"\nfps = {FPS}\n\n'
        f"{extra}\n{LINE_RULES}\n"
        f'[journal]\npath = "{args.work}/{tag}.db"\n\n'
        f'[arming]\nstate_file = "{args.work}/{tag}-arming.toml"\n\n'
        "[health]\nfps_floor = 0.0\n"))
    db = f"{args.work}/{tag}.db"
    if os.path.exists(db):
        os.remove(db)
    cmd = ["run", "--fast", "-c", cfg]
    if tracks:
        cmd += ["--tracks-out", tracks]
    picket(args, *cmd)
    con = sqlite3.connect(db)
    rows = con.execute("SELECT direction FROM events WHERE kind = 'line_cross'").fetchall()
    con.close()
    dirs = [r[0] for r in rows]
    return dirs.count("left_to_right"), dirs.count("right_to_left")


def ratio(a, b):
    return min(a, b) / max(a, b) if max(a, b) else 1.0


def lines(args, gt):
    print("\nline_cross at x = 0.5, default config, per half (each run starts afresh)\n")
    print("| frames | tiles | reference → | picket → | ratio | reference ← | picket ← | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for lo, hi in HALVES:
        ref = reference_crossings(gt, lo, hi)
        for name, extra in (("auto (default)", ""), ("1x1", '[detector]\ntiles = "1x1"\n')):
            got = run(args, os.path.join(args.work, f"clip-{lo}-{hi}.mjpeg"), extra)
            print(f"| {lo}-{hi} | {name} | {ref[0]} | {got[0]} | {ratio(ref[0], got[0]):.2f} "
                  f"| {ref[1]} | {got[1]} | {ratio(ref[1], got[1]):.2f} |")


def mot(args, gt):
    import motmetrics as mm
    gt_path = os.path.join(args.work, "gt-1-400.txt")
    write_gt(gt, 1, 400, gt_path)
    truth = mm.io.loadtxt(gt_path)
    ignore = truth[truth["Confidence"] == 0]
    truth = truth[truth["Confidence"] != 0]
    print("\npicket run --tracks-out, frames 1-400, motmetrics (IoU 0.5)\n")
    print("| tiles | MOTA | IDF1 | recall | precision | ID switches | tracks |")
    print("|---|---|---|---|---|---|---|")
    for name, extra in (("auto (default)", ""), ("1x1", '[detector]\ntiles = "1x1"\n')):
        out = os.path.join(args.work, f"tracks-{name.split()[0]}.txt")
        run(args, os.path.join(args.work, "clip-1-400.mjpeg"), extra, tracks=out)
        hyp = mm.io.loadtxt(out)
        # Track boxes on an "ignore" region (IoU >= 0.5) are neither right nor wrong.
        drop = []
        for (fr, hid), row in hyp.iterrows():
            if fr not in ignore.index.get_level_values(0):
                continue
            b = (row.X, row.Y, row.X + row.Width, row.Y + row.Height)
            for _, g in ignore.loc[fr].iterrows():
                if iou(b, (g.X, g.Y, g.X + g.Width, g.Y + g.Height)) >= 0.5:
                    drop.append((fr, hid))
                    break
        hyp = hyp.drop(index=drop)
        acc = mm.utils.compare_to_groundtruth(truth, hyp, "iou", distth=0.5)
        s = mm.metrics.create().compute(
            acc, metrics=["mota", "idf1", "recall", "precision", "num_switches",
                          "num_unique_objects"], name="x")
        ntracks = len(set(hyp.index.get_level_values(1)))
        print(f"| {name} | {s['mota'].iloc[0]:.3f} | {s['idf1'].iloc[0]:.3f} "
              f"| {s['recall'].iloc[0]:.3f} | {s['precision'].iloc[0]:.3f} "
              f"| {int(s['num_switches'].iloc[0])} | {ntracks} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--picket", required=True)
    ap.add_argument("--gt", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--png", required=True)
    ap.add_argument("steps", nargs="+", choices=["detect", "sweep", "pr", "lines", "mot"])
    args = ap.parse_args()
    gt = read_gt(args.gt)
    for lo, hi in HALVES:
        write_gt(gt, lo, hi, os.path.join(args.work, f"gt-{lo}-{hi}.txt"))
    for step in args.steps:
        if step == "detect":
            detect(args)
        elif step == "sweep":
            sweep(args)
        elif step == "pr":
            pr(args, gt)
        elif step == "lines":
            lines(args, gt)
        else:
            mot(args, gt)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
