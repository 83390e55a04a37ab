#!/usr/bin/env bash
# Fixture for scripts/lint-shell.sh --self-test, never run: look-alikes of the pipefail trap that
# are safe, none of which the lint may report.
set -euo pipefail

out=$(rustup target list --installed)
grep -q aarch64 <<<"$out" || exit 1
grep -qx arm64 <(dpkg --print-foreign-architectures)
first=$(sort -u list.txt)
echo "${first%%$'\n'*}" | tail -n1
lsmod | grep -c vivid || true
lsmod | grep -v -e '-q' | sort
test -s list.txt || head -n1 list.txt
# lsmod | grep -q vivid, in a comment
echo "$out" | headroom --check
[ ${#first} -gt 0 ] && echo "$# args"
