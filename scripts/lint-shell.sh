#!/usr/bin/env bash
# The pipefail trap, as a lint. Under `set -o pipefail` (scripts/lib.sh sets it for every script
# here), piping a command into `grep -q` or `head` fails at random: the reader exits at its first
# match or line, `cmd` dies of SIGPIPE if it is still writing, and the pipeline reports cmd's
# failure. This fails on either idiom in the shell scripts under the given paths (default:
# scripts/ and .ci/), naming each place. Capture the output first, then grep it:
#
#   out=$(cmd); grep -q PATTERN <<<"$out"
#
#   scripts/lint-shell.sh [PATH...]    lint the shell scripts in PATHs (files or directories)
#   scripts/lint-shell.sh --self-test  the lint must flag exactly the marked lines of the fixture
#                                      tests/data/lint-shell/bad.sh, and pass good.sh beside it
#
# A shell script is a file named *.sh, or one whose first line is a shebang naming sh or bash.
# Whole-line comments and trailing ` # ...` comments are ignored; a pipe at the end of a line or
# before a line continuation joins the next line, so a pipeline split over lines is caught.
source "$(dirname "$0")/lib.sh"
cd "$PICKET_ROOT"

# shell_files PATH...: the shell scripts under PATHs, one per line.
shell_files() {
  local f first
  while IFS= read -r -d '' f; do
    case $f in
      *.sh) printf '%s\n' "$f" ;;
      *)
        IFS= read -r first <"$f" || true
        case $first in '#!'*/sh | '#!'*/bash | '#!'*' sh' | '#!'*' bash') printf '%s\n' "$f" ;; esac
        ;;
    esac
  done < <(find "$@" -type f -print0 | sort -z)
}

# lint FILE...: print `FILE:LINE: text` for each pipeline into `grep -q` or `head`.
lint() {
  awk '
    FNR == 1 { joined = ""; start = 0 }
    {
      line = $0
      if (line ~ /^[ \t]*#/) line = ""
      sub(/[ \t]+#[^'"'"'"]*$/, "", line)
      if (joined == "") start = FNR
      joined = joined " " line
      if (line ~ /(\||\\)[ \t]*$/) next
      shown = joined
      joined = ""
      text = shown
      gsub(/\|\|/, " OR ", text)
      if (text ~ /\|[ \t]*head([ \t]|$)/ ||
          text ~ /\|[ \t]*grep[ \t]([^|;&]*[ \t])?(-[A-Za-z]*q[A-Za-z]*|--quiet|--silent)([ \t]|$)/) {
        gsub(/[ \t]+/, " ", shown)
        sub(/^ /, "", shown)
        printf "%s:%d: %s\n", FILENAME, start, shown
      }
    }
  ' "$@"
}

# run PATH...: lint, report, and fail if anything was found.
run() {
  local files found
  mapfile -t files < <(shell_files "$@")
  [ ${#files[@]} -gt 0 ] || die "lint-shell: no shell scripts under $*"
  found=$(lint "${files[@]}")
  if [ -n "$found" ]; then
    printf '%s\n' "$found" >&2
    die "lint-shell: a pipe into \`grep -q\` or \`head\` fails at random under pipefail; capture the output first, then grep it"
  fi
  log "lint-shell: ${#files[@]} scripts, no pipe into grep -q or head"
}

# self_test: the lines after the fixture's `lint: flags the next line` comments are exactly the
# ones reported, and its clean twin passes.
self_test() {
  local dir=tests/data/lint-shell want got
  want=$(awk '/^# lint: flags the next line$/ { print FNR + 1 }' "$dir/bad.sh")
  [ -n "$want" ] || die "lint-shell self-test: $dir/bad.sh marks no line"
  got=$(lint "$dir/bad.sh" | cut -d: -f2)
  [ "$got" = "$want" ] || die "lint-shell self-test: flagged lines $(tr '\n' ' ' <<<"$got")of" \
    "$dir/bad.sh, expected $(tr '\n' ' ' <<<"$want")"
  got=$(lint "$dir/good.sh")
  [ -z "$got" ] || die "lint-shell self-test: $dir/good.sh was flagged: $got"
  [ "$(shell_files "$dir")" = "$(printf '%s\n' "$dir/bad.sh" "$dir/good.sh")" ] ||
    die "lint-shell self-test: the fixtures were not both taken for shell scripts"
  log "lint-shell: self-test ok ($(wc -l <<<"$want") lines flagged in bad.sh, none in good.sh)"
}

if [ "${1:-}" = --self-test ]; then
  self_test
elif [ $# -gt 0 ]; then
  run "$@"
else
  run scripts .ci
fi
