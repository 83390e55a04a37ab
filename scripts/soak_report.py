"""The soak's report (scripts/soak.sh): the table of its samples once the journal has reached
its cap, as Markdown on stdout, and a plot of RSS, descriptors, threads and the journal's sizes
against frames as a PNG.

    soak_report.py SOAK.CSV PLOT.PNG --max-bytes N
"""

import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--max-bytes", type=int, required=True)
    a = ap.parse_args()
    with open(a.csv) as f:
        rows = [{k: int(v) for k, v in r.items()} for r in csv.DictReader(f)]
    if not rows:
        raise SystemExit(f"{a.csv}: no samples")
    # The journal is at its cap once the database file stops growing: its largest size is
    # reached when pruning starts, and freed pages are reused after that.
    top = max(r["db_bytes"] for r in rows)
    capped = next(i for i, r in enumerate(rows) if r["db_bytes"] >= top)
    after = rows[capped:]
    last = rows[-1]

    def span(key, rs):
        vals = [r[key] for r in rs]
        return min(vals), max(vals)

    print(f"samples: {len(rows)}; frames: {last['frames']} in {last['seconds']} s "
          f"({last['frames'] / max(last['seconds'], 1):.0f} frames/s); "
          f"inferences skipped by the motion gate: "
          f"{last['skipped'] / max(last['frames'], 1):.1%}; events: {last['events']}")
    print(f"journal at its cap from frame {rows[capped]['frames']} "
          f"(sample {capped + 1}); the figures below are from there on\n")
    print("| measure | min | max | max - min | limit |")
    print("|---|---|---|---|---|")
    lo, hi = span("rss_kib", after)
    verdict = "< 1024 KiB" + (" (holds)" if hi - lo < 1024 else " (FAILS)")
    print(f"| RSS (KiB) | {lo} | {hi} | {hi - lo} | {verdict} |")
    # Which part moved: anonymous memory, or file pages of the binary and libraries as rarer
    # code runs (samples from before these columns lack them).
    for key, name in (("rss_anon_kib", "of it anonymous"), ("rss_file_kib", "of it file-backed")):
        if key in after[0]:
            lo, hi = span(key, after)
            print(f"| {name} (KiB) | {lo} | {hi} | {hi - lo} | |")
    for key, name in (("fds", "open file descriptors"), ("threads", "threads")):
        lo, hi = span(key, after)
        print(f"| {name} | {lo} | {hi} | {hi - lo} | constant{' (holds)' if lo == hi else ' (FAILS)'} |")
    lo, hi = span("db_bytes", after)
    wlo, whi = span("wal_bytes", after)
    total = max(r["db_bytes"] + r["wal_bytes"] for r in after)
    ok = " (holds)" if total <= a.max_bytes else " (FAILS)"
    print(f"| journal file (bytes) | {lo} | {hi} | {hi - lo} | with the WAL <= {a.max_bytes}{ok} |")
    print(f"| WAL file (bytes) | {wlo} | {whi} | {whi - wlo} | largest sum {total} |")

    fig, axes = plt.subplots(4, 1, sharex=True, figsize=(8, 9))
    x = [r["frames"] for r in rows]
    axes[0].plot(x, [r["rss_kib"] / 1024 for r in rows])
    axes[0].set_ylabel("RSS (MiB)")
    axes[1].plot(x, [r["fds"] for r in rows], label="file descriptors")
    axes[1].plot(x, [r["threads"] for r in rows], label="threads")
    axes[1].legend()
    axes[1].set_ylabel("count")
    axes[2].plot(x, [r["db_bytes"] / 1024 for r in rows], label="journal")
    axes[2].plot(x, [r["wal_bytes"] / 1024 for r in rows], label="WAL")
    axes[2].axhline(a.max_bytes / 1024, color="grey", linestyle="--", label="cap")
    axes[2].legend()
    axes[2].set_ylabel("KiB")
    axes[3].plot(x, [r["skipped"] / max(r["frames"], 1) for r in rows])
    axes[3].set_ylabel("skipped share")
    axes[3].set_xlabel("frames")
    for ax in axes:
        ax.axvline(rows[capped]["frames"], color="red", linewidth=0.8)
    fig.suptitle("picket run, soak (red: journal at its cap)")
    fig.tight_layout()
    fig.savefig(a.png, dpi=80)
    print(f"\nplot: {a.png}")


if __name__ == "__main__":
    main()
