#!/usr/bin/env bash
# Fixture for scripts/lint-shell.sh --self-test, never run: the lint must report the line after
# each `lint: flags the next line` comment (where a pipeline starts), and no other.
set -euo pipefail

# lint: flags the next line
rustup target list --installed | grep -q aarch64 || exit 1
# lint: flags the next line
dpkg --print-foreign-architectures | grep -qx arm64
# lint: flags the next line
apt-cache policy x | grep -E -q 'Candidate' # a trailing comment
# lint: flags the next line
lsmod | grep --quiet vivid
# lint: flags the next line
first=$(sort -u list.txt | head -n1)
# lint: flags the next line
dpkg-deb --ctrl-tarfile x.deb | tar -tf - |
  grep -qx './conffiles'
# lint: flags the next line
echo "$first"|head
# lint: flags the next line
find . -type f \
  | head -c 10
