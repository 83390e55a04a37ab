#!/usr/bin/env bash
# Boots the hardware-in-the-loop VM (scripts/hil/setup.sh) with one command and returns that
# command's exit code, streaming the serial console to stdout.
#
#   scripts/hil/run.sh [OPTIONS] -- CMD [ARGS...]
#
# CMD is an aarch64 or armv7 (hard-float) program on this machine, copied into the guest with its
# loader, libc and the TFLite library, or, when no such file exists, a busybox command in the
# guest. armv7 programs run through the arm64 kernel's 32-bit compat layer.
#   --disk IMG        the virtio disk: an ext4 image, made if missing and kept (the journal lives
#                     here; boot twice on the same IMG to test a power cut)
#   --keep-disk       keep the temporary disk made when --disk is not given, and print its path
#   --file SRC[:DEST] also pack SRC (file or directory) at DEST (default /hil/files/NAME)
#   --share DIR       mount the host's DIR read-only at the same path in the guest (virtio-9p), so
#                     that paths compiled into a test (CARGO_MANIFEST_DIR, CARGO_BIN_EXE_*) resolve
#   --cwd DIR         the guest directory CMD starts in (default /hil)
#   --picket PATH     pack an aarch64 or armv7 picket as /hil/bin/picket and export PICKET_BIN
#                     (default: $PICKET_BIN, else the picket beside a cargo test binary)
#   --tflite SO       the aarch64 libtensorflowlite_c.so (default: the TF 2.9 one bootstrap fetched)
#   --litert SO       the aarch64 libLiteRt.so, packed beside it, so that picket's `auto` runtime
#                     runs on LiteRT as on a board with the .deb (default: the LiteRT 2.3 one
#                     bootstrap fetched; `none` packs none, and `auto` falls back to TF 2.9)
#   --env K=V         export K=V to CMD (RUST_LOG, RUST_BACKTRACE pass through by themselves)
#   --timeout S       kill the VM after S seconds in all (default $HIL_TIMEOUT or 600); exit 124
#   --kill-after S    power cut: kill the VM S seconds after CMD starts
#   --systemd         boot the Debian root on --disk IMG (scripts/hil/systemd-root.sh) with systemd
#                     as PID 1; CMD runs there as root from hil-scenario.service, after boot
#   --kill-on TEXT    power cut: kill the VM as soon as the console prints TEXT; with --kill-after
#                     too, S seconds after that
# With a power cut requested, the exit code is 0 when the cut happened while CMD ran. Exit 125
# means the VM stopped without reporting CMD's exit code. Exit 120 means the guest kernel failed
# (an oops, BUG_ON's included, or a panic on the console), a kernel bug that leaves CMD's result
# meaningless; the VM is stopped 5 s after the first such line, time for the trace, rather than
# left to hang until the timeout. With $HIL_STATS set, boot and run times are written there as
# shell assignments, and the kernel's first line of failure as `oops=`.
# shellcheck source=scripts/hil/lib.sh
source "$(dirname "$0")/lib.sh"

# Debian's cross sysroots. aarch64 libraries go to /lib, armhf ones to /lib/arm-linux-gnueabihf
# (the loader skips libraries of the other ELF class on LD_LIBRARY_PATH), each loader to /lib.
declare -A SYSROOT=([aarch64]=/usr/aarch64-linux-gnu/lib [armhf]=/usr/arm-linux-gnueabihf/lib)
declare -A GUEST_LIB=([aarch64]=/lib [armhf]=/lib/arm-linux-gnueabihf)
# Always packed for aarch64, so that a program that loads TFLite later finds what it needs.
BASE_LIBS=(ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libgcc_s.so.1 libdl.so.2 libpthread.so.0
  librt.so.1)

usage() { sed -n '2,/^# shellcheck/{/^# shellcheck/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }

parse_args() {
  DISK="" KEEP_DISK=0 TIMEOUT=${HIL_TIMEOUT:-600} KILL_AFTER="" KILL_ON="" FILES=() ENVS=()
  SHARES=() CWD="" SYSTEMD=0
  PICKET=${PICKET_BIN:-} TFLITE="$(tflite_dir tf29 aarch64)/libtensorflowlite_c.so"
  LITERT="$(tflite_dir litert-2.3 aarch64)/libLiteRt.so"
  while [ $# -gt 0 ]; do
    case $1 in
      --disk) DISK=$2; shift 2 ;;
      --keep-disk) KEEP_DISK=1; shift ;;
      --file) FILES+=("$2"); shift 2 ;;
      --share) SHARES+=("$(cd "$2" && pwd)"); shift 2 ;;
      --cwd) CWD=$2; shift 2 ;;
      --picket) PICKET=$2; shift 2 ;;
      --tflite) TFLITE=$2; shift 2 ;;
      --litert) LITERT=$2; shift 2 ;;
      --env) ENVS+=("$2"); shift 2 ;;
      --timeout) TIMEOUT=$2; shift 2 ;;
      --kill-after) KILL_AFTER=$2; shift 2 ;;
      --kill-on) KILL_ON=$2; shift 2 ;;
      --systemd) SYSTEMD=1; shift ;;
      --) shift; break ;;
      -h | --help) usage ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
  done
  [ $# -gt 0 ] || usage
  [ "$SYSTEMD" -eq 0 ] || [ -f "$DISK" ] || die "--systemd needs --disk IMG, a root image"
  CMD=$1
  shift
  ARGS=("$@")
}

# quote WORD: WORD as a single-quoted shell word.
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# elf_arch FILE: aarch64 or armhf for programs the guest can run; nothing otherwise.
elf_arch() {
  case $(readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p') in
    AArch64) echo aarch64 ;;
    ARM) echo armhf ;;
  esac
}

# find_lib ARCH NAME: the library NAME for ARCH, already packed, or from the cross sysroot, or
# beside the TFLite library.
find_lib() {
  local d dirs=("${SYSROOT[$1]}")
  [ "$1" = aarch64 ] && dirs=("$WORK/payload/hil/lib" "${SYSROOT[$1]}" "$(dirname "$TFLITE")")
  for d in "${dirs[@]}"; do
    [ -e "$d/$2" ] && { printf '%s\n' "$d/$2"; return 0; }
  done
  return 1
}

# lib_dest ARCH PATH: where the guest keeps the library PATH.
lib_dest() {
  case $(basename "$2") in
    ld-linux*) echo /lib ;;
    *) echo "${GUEST_LIB[$1]}" ;;
  esac
}

# pack_libs ROOT ARCH FILE...: copy the shared libraries FILEs need, transitively, into ROOT.
pack_libs() {
  local root=$1 arch=$2 name path found dest
  shift 2
  [ -d "${SYSROOT[$arch]}" ] ||
    die "no $arch libraries in ${SYSROOT[$arch]} (apt: libc6-${arch/aarch64/arm64}-cross)"
  local -a todo=("$@")
  local -A seen=()
  if [ "$arch" = aarch64 ]; then
    for name in "${BASE_LIBS[@]}"; do todo+=("$(find_lib aarch64 "$name")"); done
  fi
  while [ ${#todo[@]} -gt 0 ]; do
    path=${todo[0]}
    todo=("${todo[@]:1}")
    [ -n "${seen[$path]:-}" ] && continue
    seen[$path]=1
    case $path in
      "$root"/*) ;;
      *)
        dest="$root$(lib_dest "$arch" "$path")"
        mkdir -p "$dest"
        cp -L "$path" "$dest/"
        ;;
    esac
    while read -r name; do
      found=$(find_lib "$arch" "$name") || die "$path needs $name, not in ${SYSROOT[$arch]}"
      todo+=("$found")
    done < <(readelf -d "$path" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  done
}
# default_picket: a cargo test binary lives in target/<triple>/<profile>/deps; picket beside it.
default_picket() {
  local p
  p="$(dirname "$CMD")/../picket"
  [ -z "$PICKET" ] && [ -f "$CMD" ] && [ -x "$p" ] && [ -n "$(elf_arch "$p")" ] &&
    PICKET=$(readlink -f "$p")
  return 0
}

# pack_program SRC DEST WHAT: copy an aarch64 or armv7 program into the payload at DEST and
# remember it (in ELVES_aarch64 or ELVES_armhf) for its libraries.
pack_program() {
  local arch
  arch=$(elf_arch "$1")
  [ -n "$arch" ] || die "$3 $1 is not an aarch64 or armv7 program"
  cp -L "$1" "$WORK/payload$2"
  case $arch in
    aarch64) ELVES_aarch64+=("$WORK/payload$2") ;;
    armhf) ELVES_armhf+=("$WORK/payload$2") ;;
  esac
}

# make_payload OUT: the second cpio with CMD, picket, libraries, extra files and /hil/cmd.sh.
make_payload() {
  local out=$1 root="$WORK/payload" guest_cmd=$CMD spec src dest kv
  mkdir -p "$root/lib" "$root/hil/bin" "$root/hil/lib" "$root/hil/files"
  ELVES_aarch64=() ELVES_armhf=()
  if [ -f "$CMD" ]; then
    guest_cmd="/hil/bin/$(basename "$CMD")"
    pack_program "$CMD" "$guest_cmd" command
  fi
  if [ -n "$PICKET" ]; then
    pack_program "$PICKET" /hil/bin/picket picket
    ENVS+=("PICKET_BIN=/hil/bin/picket")
  fi
  if [ -f "$TFLITE" ]; then
    pack_program "$TFLITE" /hil/lib/libtensorflowlite_c.so "the TFLite library"
  else
    log "hil: no aarch64 TFLite library at $TFLITE (scripts/bootstrap.sh fetches it); not packed"
  fi
  if [ -f "$LITERT" ]; then
    pack_program "$LITERT" /hil/lib/libLiteRt.so "the LiteRT library"
  elif [ "$LITERT" != none ]; then
    log "hil: no aarch64 LiteRT library at $LITERT (scripts/bootstrap.sh fetches it); not packed"
  fi
  pack_libs "$root" aarch64 "${ELVES_aarch64[@]}"
  [ ${#ELVES_armhf[@]} -eq 0 ] || pack_libs "$root" armhf "${ELVES_armhf[@]}"
  for spec in "${FILES[@]}"; do
    src=${spec%%:*}
    dest=${spec#*:}
    [ "$dest" = "$spec" ] && dest="/hil/files/$(basename "$src")"
    [ -e "$src" ] || die "--file $src: no such file"
    mkdir -p "$root$(dirname "$dest")"
    cp -a "$src" "$root$dest"
  done
  for kv in RUST_LOG RUST_BACKTRACE; do
    [ -n "${!kv:-}" ] && ENVS+=("$kv=${!kv}")
  done
  local i
  for i in "${!SHARES[@]}"; do printf 'hil%s %s\n' "$i" "${SHARES[$i]}"; done >"$root/hil/shares"
  {
    echo "# Generated by scripts/hil/run.sh"
    [ -n "$CWD" ] && printf 'cd %s || exit 126\n' "$(quote "$CWD")"
    for kv in "${ENVS[@]}"; do printf 'export %s=%s\n' "${kv%%=*}" "$(quote "${kv#*=}")"; done
    printf 'exec %s' "$(quote "$guest_cmd")"
    for kv in "${ARGS[@]}"; do printf ' %s' "$(quote "$kv")"; done
    echo
  } >"$root/hil/cmd.sh"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$out"
}

prepare_disk() {
  if [ -z "$DISK" ]; then
    DISK="$WORK/disk.img"
    [ "$KEEP_DISK" -eq 1 ] && DISK=$(mktemp "${TMPDIR:-/tmp}/hil-disk.XXXXXX.img") && rm -f "$DISK"
  fi
  [ -f "$DISK" ] && return 0
  truncate -s "${HIL_DISK_SIZE:-256M}" "$DISK"
  # Inode tables and the ext4 journal written out now, so that no lazy init writes to the disk
  # while a scenario counts what is written to it (the wear budget).
  mke2fs -q -t ext4 -F -L hil -E lazy_itable_init=0,lazy_journal_init=0 "$DISK"
}

kernel_tree() {
  if [ ! -f "$HIL_CURRENT/initramfs.cpio.gz" ] ||
    [ "$(dirname "$0")/init.sh" -nt "$HIL_CURRENT/initramfs.cpio.gz" ] ||
    [ "$(dirname "$0")/setup.sh" -nt "$HIL_CURRENT/initramfs.cpio.gz" ]; then
    bash "$(dirname "$0")/setup.sh" >/dev/null
  fi
  KDIR=$(readlink -f "$HIL_CURRENT")
  KREL=$(cat "$KDIR/release")
}

start_vm() {
  local -a share_opts=()
  local i
  for i in "${!SHARES[@]}"; do
    # qemu escapes a comma in an option value by doubling it.
    share_opts+=(-virtfs
      "local,path=${SHARES[$i]//,/,,},mount_tag=hil$i,security_model=none,readonly=on")
  done
  local append="console=ttyAMA0 panic=-1 quiet"
  # systemd as PID 1: the root on the disk, no status lines on the console the scenario prints to.
  [ "$SYSTEMD" -eq 1 ] && append+=" hil.systemd systemd.show_status=0 rw"
  mkfifo "$WORK/console"
  qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 1024 \
    -display none -serial stdio -monitor none -nic none -no-reboot \
    -kernel "$KDIR/root/boot/vmlinuz-$KREL" -initrd "$WORK/initrd" \
    -append "$append" "${share_opts[@]}" \
    -drive "file=$DISK,format=raw,if=virtio" </dev/null >"$WORK/console" 2>&1 &
  QPID=$!
}

# kill_vm: SIGKILL qemu, as a power cut would, and reap it at once so that bash does not
# announce the killed job later.
kill_vm() {
  kill -KILL "$QPID" 2>/dev/null || true
  wait "$QPID" 2>/dev/null || true
}

power_cut() {
  [ -n "$CUT" ] && return 0
  CUT=$1
  kill_vm
  RUN=$(elapsed "$T_CMD")
  log "hil: power cut ($CUT)"
}

# on_line LINE [cut]: echo a console line and act on the markers init.sh prints. With `cut`, the
# console stopped before the line's end (qemu was killed mid-line), and the echo says so.
on_line() {
  local line=${1%$'\r'}
  if [ "${2:-}" = cut ]; then
    printf '%s [hil: cut off mid-line]\n' "$line"
  else
    printf '%s\n' "$line"
  fi
  case $line in
    *'] Unable to handle kernel '* | *'] Internal error: Oops'* | \
      *'] Kernel panic - not syncing'*)
      # The kernel's own lines start with its timestamp, `[   33.897582] `.
      if [ -z "$OOPS" ]; then
        OOPS=${line#*] } OOPS_US=${EPOCHREALTIME//[!0-9]/}
        log "hil: the guest kernel failed: $OOPS"
      fi ;;
    *'@@HIL ready uptime='*)
      BOOT=$(elapsed "$T0")
      T_CMD=$(date +%s.%N)
      [ -z "$KILL_ON" ] && T_ARMED_US=${EPOCHREALTIME//[!0-9]/}
      log "hil: booted in $BOOT s"
      return 0 ;; # the marker itself is not the command's output, for --kill-on
    *'@@HIL exit='*)
      RC=${line#*@@HIL exit=}
      RC=${RC%% *}
      RUN=$(elapsed "$T_CMD") ;;
  esac
  if [ -n "$KILL_ON" ] && [ -z "$T_ARMED_US" ] && [ -n "$T_CMD" ] && [ -z "$RC" ] &&
    [[ $line == *"$KILL_ON"* ]]; then
    T_ARMED_US=${EPOCHREALTIME//[!0-9]/}
    [ -z "$KILL_AFTER" ] && power_cut "console printed '$KILL_ON'"
  fi
  # A busy console never lets the read time out, so the clocks are checked here too.
  on_tick
}

# us S: S seconds (decimals allowed) in microseconds.
us() { awk -v s="$1" 'BEGIN { printf "%d", s * 1e6 }'; }

# kill_after_due: --kill-after's time has come (from the command's start, or from --kill-on's
# TEXT), and the command still runs. No fork: it runs for every console line. EPOCHREALTIME is
# the time in microseconds, with a decimal point.
kill_after_due() {
  [ -n "$KILL_AFTER" ] && [ -n "$T_ARMED_US" ] && [ -z "$RC" ] &&
    ((${EPOCHREALTIME//[!0-9]/} - T_ARMED_US >= KILL_AFTER_US))
}

# kill_after_what: what --kill-after counted from, for the log.
kill_after_what() {
  if [ -n "$KILL_ON" ]; then
    printf "%s s after the console printed '%s'" "$KILL_AFTER" "$KILL_ON"
  else
    printf '%s s after the command started' "$KILL_AFTER"
  fi
}

# on_tick: check the clocks, between console reads and after every line.
on_tick() {
  kill_after_due && power_cut "$(kill_after_what)"
  if [ -n "$OOPS" ] && [ -z "$OOPS_KILLED" ] &&
    ((${EPOCHREALTIME//[!0-9]/} - OOPS_US >= 5000000)); then
    OOPS_KILLED=1
    kill_vm
  fi
  if [ -z "$TIMED_OUT" ] && ((${EPOCHREALTIME//[!0-9]/} - T0_US >= TIMEOUT_US)); then
    TIMED_OUT=1
    kill_vm
  fi
  return 0
}

# stream: read the console until qemu closes it, half a second at a time so the clocks tick.
stream() {
  local chunk pending="" st
  exec 3<"$WORK/console"
  while :; do
    if IFS= read -r -t 0.5 chunk <&3; then
      on_line "$pending$chunk"
      pending=""
    else
      st=$?
      if [ "$st" -gt 128 ]; then
        pending+=$chunk
        on_tick
      else
        [ -n "$pending$chunk" ] && on_line "$pending$chunk" cut
        break
      fi
    fi
  done
  exec 3<&-
  wait "$QPID" 2>/dev/null || true
}

finish() {
  local code
  if [ -n "$OOPS" ]; then
    log "hil: the guest kernel failed, so the command's result does not count: $OOPS"
    code=120
  elif [ -n "$TIMED_OUT" ]; then
    log "hil: timed out after $TIMEOUT s"
    code=124
  elif [ -n "$KILL_AFTER$KILL_ON" ]; then
    if [ -n "$CUT" ]; then code=0
    elif [ -n "$RC" ] && [ "$RC" -ne 0 ]; then code=$RC
    else log "hil: the command ended before the power cut"; code=1
    fi
  elif [ -n "$RC" ]; then
    code=$RC
  else
    log "hil: the VM stopped without reporting the command's exit code"
    code=125
  fi
  log "hil: boot ${BOOT:-?} s, command ${RUN:-?} s, total $(elapsed "$T0") s, exit $code"
  if [ -n "${HIL_STATS:-}" ]; then
    printf 'boot=%s\nrun=%s\ntotal=%s\nexit=%s\noops=%s\n' \
      "${BOOT:-}" "${RUN:-}" "$(elapsed "$T0")" "$code" "$OOPS" >"$HIL_STATS"
  fi
  [ "$KEEP_DISK" -eq 1 ] && [[ $DISK == "$WORK"/* || $DISK == */hil-disk.*.img ]] &&
    log "hil: disk kept at $DISK"
  return "$code"
}

main() {
  parse_args "$@"
  default_picket
  kernel_tree
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  make_payload "$WORK/payload.cpio.gz"
  cat "$KDIR/initramfs.cpio.gz" "$WORK/payload.cpio.gz" >"$WORK/initrd"
  prepare_disk
  T0=$(date +%s.%N) T_CMD="" RC="" RUN="" BOOT="" CUT="" TIMED_OUT="" T_ARMED_US=""
  OOPS="" OOPS_US="" OOPS_KILLED=""
  T0_US=${EPOCHREALTIME//[!0-9]/} TIMEOUT_US=$(us "$TIMEOUT") KILL_AFTER_US=$(us "${KILL_AFTER:-0}")
  start_vm
  stream
  finish
}

main "$@"
