#!/usr/bin/env bash
# Coverage-guided fuzzing of picket's parsers with AFL++ through cargo-afl (stable Rust; the
# targets are src/fuzz_targets.rs, the binary fuzz/). Runs each target for SECONDS from its
# committed seeds (fuzz/corpus/TARGET plus fuzz/regressions/TARGET), niced, with a memory limit,
# then prints execs/s and coverage (edges of the whole binary's map) from AFL++'s fuzzer_stats. Fails if a run found a crash or a
# hang, naming the inputs to fix and commit under fuzz/regressions/TARGET/.
#
#   scripts/fuzz.sh TARGET SECONDS   # one target: jpeg mjpeg y4m raw config mot journal mqtt
#                                    # preview jpeg_scaled
#   scripts/fuzz.sh all SECONDS      # each in turn, then a table
#   scripts/fuzz.sh rotate SECONDS   # the one target this commit picks (CI: scripts/test.d)
#
# cargo-afl and the AFL++ it builds are installed once under $PICKET_CACHE/afl, and the
# instrumented build is kept in $PICKET_CACHE/fuzz/target (or PICKET_FUZZ_TARGET_DIR), so a
# fresh clone rebuilds only picket itself. PICKET_FUZZ_MEM (MiB, default 1024) is the target's address-space limit (afl-fuzz -m);
# PICKET_FUZZ_NICE (default 19) its niceness. Outputs (queue, crashes) go to
# $PICKET_CACHE/fuzz/out/TARGET, replaced at each run.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

AFL_VERSION=0.18.2 # the same as fuzz/Cargo.toml's `afl`
targets=(jpeg mjpeg y4m raw config mot journal mqtt preview jpeg_scaled)
[ $# -eq 2 ] || die "usage: scripts/fuzz.sh TARGET|all|rotate SECONDS"
what=$1 seconds=$2
nice_level=${PICKET_FUZZ_NICE:-19}
mem=${PICKET_FUZZ_MEM:-1024}
out_root="$PICKET_CACHE/fuzz/out"
export CARGO_TARGET_DIR="${PICKET_FUZZ_TARGET_DIR:-$PICKET_CACHE/fuzz/target}"

# afl_ensure: cargo-afl on PATH and AFL++ built for this rustc, both under the cache.
afl_ensure() {
  local root="$PICKET_CACHE/afl"
  export PATH="$root/bin:$PATH" XDG_DATA_HOME="$root/share"
  local have=""
  [ -x "$root/bin/cargo-afl" ] && have=$("$root/bin/cargo-afl" afl --version 2>/dev/null || true)
  if [[ $have != *"$AFL_VERSION"* ]]; then
    log "cargo-afl $AFL_VERSION into $root"
    nice -n "$nice_level" cargo install --quiet --locked --force --root "$root" \
      cargo-afl --version "$AFL_VERSION"
  fi
  local rustc_version built
  rustc_version=$(rustc --version | cut -d' ' -f2)
  built=$(compgen -G "$root/share/afl.rs/rustc-$rustc_version-*/afl.rs-$AFL_VERSION/afl/bin/afl-fuzz" || true)
  if [ -z "$built" ]; then
    log "AFL++ for $(rustc --version)"
    nice -n "$nice_level" cargo afl config --build --force >/dev/null
  fi
}

# stat FILE KEY: one value of AFL++'s fuzzer_stats.
stat() { sed -n "s/^$2 *: *//p" "$1"; }

# run TARGET: fuzz it for $seconds; prints one summary line to stdout.
run() {
  local target=$1 out="$out_root/$1" seeds
  rm -rf "$out"
  seeds="$out/seeds"
  mkdir -p "$seeds" "$out/tmp"
  cp fuzz/corpus/"$target"/* "$seeds"/
  if [ -d "fuzz/regressions/$target" ]; then
    cp fuzz/regressions/"$target"/* "$seeds"/
  fi
  log "fuzz $target for $seconds s (memory limit $mem MiB, nice $nice_level)"
  # No UI, no CPU binding or governor check (a shared machine), no core-dump pattern check;
  # the journal target's scratch files go under the output directory.
  AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    TMPDIR="$out/tmp" nice -n "$nice_level" \
    cargo afl fuzz -i "$seeds" -o "$out" -m "$mem" -t 2000 -V "$seconds" \
    -- "$CARGO_TARGET_DIR/release/picket-fuzz" "$target" >"$out/afl.log" 2>&1 ||
    { tail -n 30 "$out/afl.log" >&2; die "afl-fuzz failed on $target"; }
  local s="$out/default/fuzzer_stats"
  [ -f "$s" ] || die "$target: no fuzzer_stats in $out"
  local crashes hangs
  crashes=$(stat "$s" saved_crashes)
  hangs=$(stat "$s" saved_hangs)
  printf '%-8s %6s s %9s execs %8s execs/s  edges %5s/%-6s (%s)  corpus %4s  crashes %s  hangs %s\n' \
    "$target" "$(stat "$s" run_time)" "$(stat "$s" execs_done)" "$(stat "$s" execs_per_sec)" \
    "$(stat "$s" edges_found)" "$(stat "$s" total_edges)" "$(stat "$s" bitmap_cvg)" \
    "$(stat "$s" corpus_count)" "$crashes" "$hangs"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    ls "$out"/default/crashes/id:* "$out"/default/hangs/id:* 2>/dev/null >&2 || true
    log "$target: fix these and commit them under fuzz/regressions/$target/"
    return 1
  fi
}

case $what in
  all) chosen=("${targets[@]}") ;;
  rotate)
    sha=$(git rev-parse --short=7 HEAD 2>/dev/null || echo 0)
    chosen=("${targets[$((16#$sha % ${#targets[@]}))]}")
    log "commit $sha fuzzes ${chosen[0]}"
    ;;
  *)
    [[ " ${targets[*]} " == *" $what "* ]] || die "unknown target $what (${targets[*]})"
    chosen=("$what")
    ;;
esac
[[ $seconds =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number"

afl_ensure
log "build fuzz/ with cargo-afl (release, instrumented)"
(cd fuzz && nice -n "$nice_level" cargo afl build --release --locked --quiet)

failed=0
table=""
for t in "${chosen[@]}"; do
  line=$(run "$t") || failed=1
  table+="$line"$'\n'
done
log "results (outputs in $out_root)"
printf '%s' "$table"
[ "$failed" -eq 0 ] || die "a target crashed or hung"
