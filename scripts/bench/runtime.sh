#!/usr/bin/env bash
# The runtime's figures, side by side in one run, medians of ROUNDS alternating rounds:
#   1. the floor: a plain C program on LiteRT 2.3's CompiledModel API (scripts/bench/litert.c) and
#      on TF 2.9's C API (capi.c), beside `picket bench` on each runtime: the wrapper's cost;
#   2. cold start, process start to the first detection printed (`picket detect` on one image,
#      the whole process's wall time), on LiteRT without and with the weight cache (warm: the
#      cache file exists), and on TF 2.9;
#   3. peak RSS (VmHWM) and anonymous RSS (RssAnon, its highest sample) of `picket run` on the
#      demo clip, on LiteRT without and with the weight cache, and on TF 2.9.
#
#   scripts/bench/runtime.sh [--threads N] [--rounds N] [--runs N]
#
# A benchmark: it asserts nothing. Needs the release build (it builds it) and bootstrap's cache.
source "$(dirname "$0")/../lib.sh"
cd "$PICKET_ROOT"

threads=1 rounds=3 runs=200
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

model=models/ssd_mobilenetv2_oidv4_int8_u8in.tflite
litert_lib="$(tflite_dir litert-2.3 x86_64)/libLiteRt.so"
tf29=$(tflite_dir tf29 x86_64)
[ -f "$litert_lib" ] || die "$litert_lib: missing (scripts/bootstrap.sh)"
bin="$PICKET_CACHE/bench"
mkdir -p "$bin"
cc -O2 -w scripts/bench/litert.c -ldl -o "$bin/litert"
cc -O2 -I"$(tflite_dir tf29 include)" scripts/bench/capi.c -L"$tf29" -ltensorflowlite_c \
  -Wl,-rpath,"$tf29" -o "$bin/capi"
cargo build --release --locked -q
picket=./target/release/picket
clip=$(demo_clip)
image=tests/data/inputs/person.png
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache="$work/xnnpack.cache"
printf '[model]\nweight_cache = "%s"\n' "$cache" >"$work/cached.toml"
printf '[motion]\nenabled = false\n\n[health]\nfps_floor = 0.0\n' >"$work/run.toml"
printf '[motion]\nenabled = false\n\n[health]\nfps_floor = 0.0\n\n[model]\nweight_cache = "%s"\n' \
  "$cache" >"$work/run-cached.toml"
# The cache is written once before the rounds, so every "cached" figure is a warm start.
"$picket" detect --runtime litert -c "$work/cached.toml" "$image" >/dev/null 2>&1

results="$work/rows"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }

# run_rss NAME ARGS...: `picket run` on the clip; its peak RSS and highest RssAnon, in MiB.
run_rss() {
  local name=$1
  shift
  python3 - "$@" >>"$results" <<EOF
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
hwm = anon = 0
while p.poll() is None:
    try:
        for l in open(f"/proc/{p.pid}/status"):
            k, v = l.split(":", 1)
            if k == "VmHWM": hwm = max(hwm, int(v.split()[0]))
            if k == "RssAnon": anon = max(anon, int(v.split()[0]))
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    time.sleep(0.05)
print(f"$name peak RSS MiB\t{hwm / 1024:.1f}\t")
print(f"$name anonymous RSS MiB\t{anon / 1024:.1f}\t")
EOF
}

for ((r = 1; r <= rounds; r++)); do
  log "round $r of $rounds, $threads thread(s)"
  out=$("$bin/litert" "$litert_lib" "$model" "$threads" 2>/dev/null)
  row "C program, LiteRT: run median ms" "$(sed -n 's/.*run median \([0-9.]*\) ms.*/\1/p' <<<"$out")" ""
  row "C program, LiteRT: peak RSS MiB" "$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' <<<"$out")" ""
  out=$("$picket" bench --runtime litert --threads "$threads" --runs "$runs" 2>/dev/null)
  row "picket bench, LiteRT: invoke median ms" "$(sed -n 's/^invoke *median \([0-9.]*\) ms.*/\1/p' <<<"$out")" ""
  out=$("$bin/capi" "$model" "$threads" 1 2>/dev/null)
  row "C program, TF 2.9: invoke median ms" "$(sed -n 's/.*invoke median \([0-9.]*\) ms.*/\1/p' <<<"$out")" ""
  row "C program, TF 2.9: peak RSS MiB" "$(sed -n 's/.*peak RSS \([0-9.]*\) MiB.*/\1/p' <<<"$out")" ""
  out=$("$picket" bench --runtime tflite --threads "$threads" --runs "$runs" 2>/dev/null)
  row "picket bench, TF 2.9: invoke median ms" "$(sed -n 's/^invoke *median \([0-9.]*\) ms.*/\1/p' <<<"$out")" ""

  for kind in litert cached tflite; do
    case $kind in
      litert) args=(--runtime litert) ;;
      cached) args=(--runtime litert -c "$work/cached.toml") ;;
      tflite) args=(--runtime tflite) ;;
    esac
    t0=$(date +%s%N)
    "$picket" detect --threads "$threads" "${args[@]}" "$image" >/dev/null 2>&1
    t1=$(date +%s%N)
    row "cold start to first detection ms, $kind" "$(((t1 - t0) / 1000000))" ""
  done

  run_rss "picket run, LiteRT:" "$picket" run -c "$work/run.toml" --source "$clip" --fast \
    --threads "$threads" --runtime litert --journal "$work/a.db" --state-file "$work/a.toml"
  run_rss "picket run, LiteRT + weight cache:" "$picket" run -c "$work/run-cached.toml" \
    --source "$clip" --fast --threads "$threads" --runtime litert --journal "$work/b.db" \
    --state-file "$work/b.toml"
  run_rss "picket run, TF 2.9:" "$picket" run -c "$work/run.toml" --source "$clip" --fast \
    --threads "$threads" --runtime tflite --journal "$work/c.db" --state-file "$work/c.toml"
done

python3 - "$results" "$rounds" "$threads" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, value, _ = line.rstrip("\n").split("\t")
    if value:
        rows.setdefault(name, []).append(float(value))
print(f"\nmedians of {sys.argv[2]} alternating rounds, {sys.argv[3]} thread(s)\n")
for name, vs in rows.items():
    print(f"{name:<52} {statistics.median(vs):>8.2f}   ({', '.join(f'{v:g}' for v in vs)})")
m = {k: statistics.median(v) for k, v in rows.items()}
def ratio(a, b, what):
    if a in m and b in m and m[b] > 0:
        print(f"{what}: x{m[a] / m[b]:.3f}")
print()
ratio("picket bench, LiteRT: invoke median ms", "C program, LiteRT: run median ms",
      "picket bench / C program, LiteRT")
ratio("picket bench, TF 2.9: invoke median ms", "C program, TF 2.9: invoke median ms",
      "picket bench / C program, TF 2.9")
ratio("C program, LiteRT: run median ms", "C program, TF 2.9: invoke median ms",
      "LiteRT / TF 2.9, C programs")
EOF
