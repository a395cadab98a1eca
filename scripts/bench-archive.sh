#!/usr/bin/env bash
# End-to-end speed of `mugai sanitize` on zip archives, side by side in the same run with two
# peers that only repack (they disarm nothing, so they are a floor for any rebuild):
#   - Python's zipfile reading and deflating every entry again (scripts/zipfile_rewrite.py),
#   - Info-ZIP: `unzip` to a folder and `zip -r` back.
# Inputs (made by the project's own builders): a bundle of 40 documents, pictures and notes,
# and 10 000 tiny entries. Each command runs RUNS times (default 5); the median is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
cargo build --release --quiet --bin mugai --example bench_archive
BIN=target/release/mugai
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
before_run() { rm -rf "$W/x" "$W/out" "$W/q" "$W/py.zip" "$W/re.zip"; }

infozip() { mkdir -p "$W/x" && unzip -q "$1" -d "$W/x" && (cd "$W/x" && zip -q -r "$W/re.zip" .); }

for input in bundle_40 tiny_10000; do
  target/release/examples/bench_archive "$input" "$W/$input.zip"
  size=$(stat -c %s "$W/$input.zip")
  m=$(median "$BIN" sanitize "$W/$input.zip" --out "$W/out" --set quarantine.dir="$W/q")
  p=$(median python3 scripts/zipfile_rewrite.py "$W/$input.zip" "$W/py.zip")
  i=$(median infozip "$W/$input.zip")
  echo "$input.zip, $size bytes:"
  printf '  mugai sanitize (disarms every entry)  %6.3f s\n' "$m"
  printf '  python zipfile rewrite (repack only)  %6.3f s\n' "$p"
  printf '  unzip + zip -r (repack only)          %6.3f s\n' "$i"
done
