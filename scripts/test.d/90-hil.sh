#!/usr/bin/env bash
# Test stage: hardware in the loop. Cross-builds the aarch64 release of picket and the `hil` test
# binary (tests/hil/), then runs each of its tests (all #[ignore]d on the host) in its own boot of
# the arm64 kernel VM (scripts/hil/), `hil --ignored --exact NAME`, where vivid, v4l2loopback,
# gpio-sim and an ext4 virtio disk are real kernel devices; tests/hil/run.rs runs `picket run`
# whole there, fed the committed clip; tests/hil/clock.rs steps the wall clock under it,
# tests/hil/memory.rs runs the demo in a cgroup at 1.5 times its memory peak, and
# tests/hil/wear.rs counts what an idle picket writes to its journal's disk (150 s, scaled to a
# day; scripts/wear.sh at full length). Every boot carries LiteRT 2.3's aarch64 library beside
# TF 2.9's, so picket's `auto` runtime runs on LiteRT there, as on a board with the .deb, and the
# detector's parity on both runtimes runs in a boot of its own (tests/detect_parity.rs; LiteRT
# crashes under qemu-user, so the aarch64 stage cannot). It also checks the runner's power cut:
# a file synced before qemu is killed is there on the next boot, and a guest kernel panic is
# reported as the kernel's failure (a test whose boot's kernel fails boots once more). Then the
# journal's: every id that picket reported committed before qemu was killed mid-write is in the
# journal on the next boot, which passes its integrity check. Prints the setup time, each boot
# time, each result and the figures the tests measured; fails if any test fails.
# Skips, saying why, only when the VM cannot run here at all (no qemu-system-aarch64 to be had, or
# no kernel to be fetched and none cached). HIL_SKIP=1 skips it on purpose.
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/../hil/lib.sh"
cd "$PICKET_ROOT"

TARGET=aarch64-unknown-linux-gnu
PASSED=0
FAILED=0
REBOOTED=0
SUMMARY=()

skip() {
  log "hil: SKIPPED: $*"
  exit 0
}

ensure_qemu() {
  command -v qemu-system-aarch64 >/dev/null && return 0
  apt_ensure qemu-system-arm >/dev/null 2>&1 || true
  command -v qemu-system-aarch64 >/dev/null ||
    skip "qemu-system-aarch64 is not installed and apt cannot install qemu-system-arm"
}

setup_vm() {
  local t0 out
  t0=$(date +%s.%N)
  if ! out=$(bash scripts/hil/setup.sh); then
    local policy
    policy=$(apt-cache policy linux-image-arm64:arm64 2>/dev/null || true)
    [ -d "$HIL_CURRENT" ] || ! grep -q Candidate <<<"$policy" || die "hil: setting up the VM failed"
    skip "no Debian arm64 kernel can be fetched and none is cached"
  fi
  log "hil: VM ready in $(elapsed "$t0") s ($(basename "$out"))"
}

# test_exe NAME: the test binary NAME that cargo's JSON messages on stdin say it built.
test_exe() {
  python3 -c '
import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") \
            and m["target"]["kind"] == ["test"] and m["target"]["name"] == sys.argv[1]:
        print(m["executable"])
' "$1"
}

# build: the release picket, the HIL test binary and the host tests' binary (for LiteRT's
# parity); sets PICKET, HIL_BIN, TESTS_BIN and HIL_TESTS (the names of the HIL binary's tests,
# listed under qemu-user, which needs no devices for that).
build() {
  local t0 json list
  t0=$(date +%s.%N)
  # The test hooks (outputs test --hold, --inject-panic) that tests/hil/gpio.rs drives.
  cargo build --release --locked --target "$TARGET" --bin picket --features test-hooks
  PICKET="target/$TARGET/release/picket"
  json=$(cargo test --release --locked --target "$TARGET" --no-run --message-format=json \
    --test hil --test tests)
  HIL_BIN=$(test_exe hil <<<"$json")
  TESTS_BIN=$(test_exe tests <<<"$json")
  [ -n "$HIL_BIN" ] || die "hil: cargo built no hil test binary"
  [ -n "$TESTS_BIN" ] || die "hil: cargo built no tests binary"
  list=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$HIL_BIN" --list --ignored)
  mapfile -t HIL_TESTS < <(printf '%s\n' "$list" | sed -n 's/: test$//p')
  [ ${#HIL_TESTS[@]} -gt 0 ] || die "hil: $HIL_BIN lists no ignored tests"
  log "hil: cross-built picket and the test binaries (${#HIL_TESTS[@]} HIL tests) in $(elapsed "$t0") s"
}

# stat_of KEY STATS: what run.sh wrote as KEY= to its $HIL_STATS file STATS.
stat_of() { sed -n "s/^$1=//p" "$2" 2>/dev/null; }

# record NAME RC STATS: one result line for the summary.
record() {
  local name=$1 rc=$2 boot run
  boot=$(stat_of boot "$3")
  run=$(stat_of run "$3")
  if [ "$rc" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    SUMMARY+=("$(printf 'ok      boot %5s s  run %5s s  %s' "${boot:-?}" "${run:-?}" "$name")")
  else
    FAILED=$((FAILED + 1))
    SUMMARY+=("$(printf 'FAILED  boot %5s s  run %5s s  %s (exit %s)' "${boot:-?}" "${run:-?}" \
      "$name" "$rc")")
  fi
}

# vm_test NAME PASSED RUN_ARGS...: one boot of scripts/hil/run.sh with RUN_ARGS, a libtest
# binary as its command, its output uncaptured in the log. It counts as passed only when libtest
# reports PASSED tests passed (a filter that matched nothing would pass with no test run). The
# lines the tests print as `figure: ...` (the measured figures, such as the alarm latency) go
# under its line in the results. When the guest kernel fails in that boot (run.sh exits 120: an
# oops or a panic, a kernel bug that says nothing of the test; Debian's 6.1 kernel once took a
# NULL dereference in list_lru_add under the memory scenario's close()), the test boots once
# more, and its result line says so and names the failure; the kernel failing twice fails it.
vm_test() {
  local name=$1 want=$2 stats out rc console boot note=""
  shift 2
  stats=$(mktemp)
  out=$(mktemp)
  log "hil: $name in the VM"
  for boot in first second; do
    rc=0
    HIL_STATS=$stats bash scripts/hil/run.sh "$@" | tee "$out" || rc=$?
    if [ "$rc" -ne 120 ] || [ "$boot" = second ]; then break; fi
    note=" (booted again: the first boot's kernel failed: $(stat_of oops "$stats"))"
    REBOOTED=$((REBOOTED + 1))
    log "hil: $name in the VM again: the guest kernel failed in the first boot"
  done
  console=$(tr -d '\r' <"$out")
  [ "$rc" -ne 0 ] || grep -q "^test result: ok\. $want passed" <<<"$console" || rc=1
  record "$name$note" "$rc" "$stats"
  mapfile -t -O "${#SUMMARY[@]}" SUMMARY < <(sed -n 's/^figure: /  /p' <<<"$console")
  rm -f "$stats" "$out"
}

# run_tests: each test of the hil binary in a boot of its own (--exact), so that no test sees
# what another left on the devices or the disk.
run_tests() {
  local name
  for name in "${HIL_TESTS[@]}"; do
    vm_test "$name" 1 --picket "$PICKET" --share "$PICKET_ROOT" --cwd "$PICKET_ROOT" -- \
      "$HIL_BIN" --ignored --exact "$name" --nocapture
  done
}

# litert_parity: LiteRT 2.3's aarch64 library, which crashes under qemu-user, in the VM (packed
# by scripts/hil/run.sh, as for every test here): the detector's XNNPACK agreement with the
# reference and its allocation-free hot path, on it and on TF 2.9 (tests/detect_parity.rs,
# with PICKET_EXPECT_LITERT=1).
litert_parity() {
  vm_test "detect_parity on LiteRT 2.3 and TF 2.9" 2 --share "$PICKET_ROOT" \
    --cwd "$PICKET_ROOT" --env PICKET_EXPECT_LITERT=1 --env PICKET_EXPECT_TFLITE_VERSION=2.9. \
    -- "$TESTS_BIN" --exact detect_parity::xnnpack_agrees_with_the_reference \
    detect_parity::detect_allocates_nothing_after_warm_up --nocapture
}

# power_cut_check: boot, sync a file, get killed; boot again on the same disk and find the file.
power_cut_check() {
  local disk stats rc=0
  disk=$(mktemp -u "${TMPDIR:-/tmp}/hil-cut.XXXXXX.img")
  stats=$(mktemp)
  log "hil: power cut on the virtio disk"
  HIL_STATS=$stats bash scripts/hil/run.sh --disk "$disk" --kill-on HIL-SYNCED -- \
    sh -c 'echo before-the-cut >"$HIL_DISK/cut"; sync; echo HIL-SYNCED; sleep 120' || rc=$?
  if [ "$rc" -eq 0 ]; then
    HIL_STATS=$stats bash scripts/hil/run.sh --disk "$disk" -- \
      sh -c 'test "$(cat "$HIL_DISK/cut")" = before-the-cut' || rc=$?
  fi
  record "power-cut (runner)" "$rc" "$stats"
  rm -f "$disk" "$stats"
}

# kernel_failure STATS CMD WANT: run.sh on busybox's `sh -c CMD` exits 120 and names WANT as
# the kernel's failure.
kernel_failure() {
  local rc=0 got
  HIL_STATS=$1 bash scripts/hil/run.sh --timeout 50 -- sh -c "$2" || rc=$?
  got=$(stat_of oops "$1")
  [ "$rc" -eq 120 ] && [ "$got" = "$3" ] && return 0
  log "hil: \`$2\`: run.sh exited $rc, naming '$got' (want 120 and '$3')"
  return 1
}

# kernel_failure_check: the guest kernel's failure stops its boot at once, and run.sh exits 120
# naming it, which vm_test's second boot relies on: a real panic (sysrq's crash, from the
# command), and an oops that leaves the kernel running (its first line as the kernel prints it,
# echoed by the command, which then sleeps past a test's patience), stopped 5 s after it.
kernel_failure_check() {
  local stats rc=0
  stats=$(mktemp)
  log "hil: the guest kernel's panic and oops are reported as its failure"
  kernel_failure "$stats" 'echo c >/proc/sysrq-trigger' \
    'Kernel panic - not syncing: sysrq triggered crash' &&
    kernel_failure "$stats" \
      'echo "[   33.897582] Unable to handle kernel NULL pointer dereference at 8"; sleep 60' \
      'Unable to handle kernel NULL pointer dereference at 8' || rc=1
  record "kernel failure (runner)" "$rc" "$stats"
  rm -f "$stats"
}

# journal_power_cut [--run]: picket's journal through power cuts (scripts/hil/journal-power-cut.sh),
# written by `picket journal-stress`, or with --run by `picket run` on the fed clip; the counts go
# to the log and under its line in the results.
journal_power_cut() {
  local stats out rc=0 name="journal power cut" cuts=${HIL_CUTS:-3}
  if [ "${1:-}" = --run ]; then
    name="picket run power cut" cuts=${HIL_RUN_CUTS:-2}
  fi
  stats=$(mktemp)
  out=$(mktemp)
  log "hil: $name, $cuts cuts"
  HIL_STATS=$stats bash scripts/hil/journal-power-cut.sh "$@" "$PICKET" "$cuts" | tee "$out" ||
    rc=$?
  record "$name" "$rc" "$stats"
  SUMMARY+=("  $(tail -n1 "$out")")
  rm -f "$stats" "$out"
}

main() {
  [ "${HIL_SKIP:-}" = 1 ] && skip "HIL_SKIP=1"
  ensure_qemu
  setup_vm
  build
  run_tests
  litert_parity
  power_cut_check
  kernel_failure_check
  journal_power_cut
  journal_power_cut --run
  log "hil: results"
  printf '  %s\n' "${SUMMARY[@]}"
  local again=""
  [ "$REBOOTED" -eq 0 ] || again=", $REBOOTED booted again after a guest kernel failure"
  echo "hil: $PASSED passed, $FAILED failed$again"
  [ "$FAILED" -eq 0 ]
}

main "$@"
