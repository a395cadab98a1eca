#!/usr/bin/env bash
# End-to-end speed of `mugai sanitize`, measured side by side with its peer in the same run:
#  1. one ~20 MB document: mugai vs a Python zipfile rewrite of the same file (scripts/zipfile_rewrite.py)
#  2. a folder of 40 documents: mugai with 1 worker thread vs 2
# Each command runs RUNS times (default 5); the median wall time is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
cargo build --release --quiet --bin mugai --example bench_doc
BIN=target/release/mugai
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

target/release/examples/bench_doc "$W/large.docx" 20000000
size=$(stat -c %s "$W/large.docx")
m=$(median "$BIN" sanitize "$W/large.docx" --out "$W/out" --set quarantine.dir="$W/q")
p=$(median python3 scripts/zipfile_rewrite.py "$W/large.docx" "$W/py.docx")
echo "one document, $size bytes:"
calc() { awk "BEGIN {print $1}"; }
printf '  mugai sanitize         %6.3f s  (%6.1f MB/s)\n' "$m" "$(calc "$size / $m / 1000000")"
printf '  python zipfile rewrite %6.3f s  (%6.1f MB/s)\n' "$p" "$(calc "$size / $p / 1000000")"
printf '  mugai is %.1fx faster\n' "$(calc "$p / $m")"

mkdir -p "$W/folder"
for i in $(seq 1 40); do target/release/examples/bench_doc "$W/folder/doc$i.docx" $((500000 + i * 20000)); done
total=$(du -sb "$W/folder" | cut -f1)
t1=$(median "$BIN" sanitize "$W/folder" --out "$W/out1" --set engine.threads=1 --set quarantine.dir="$W/q")
t2=$(median "$BIN" sanitize "$W/folder" --out "$W/out2" --set engine.threads=2 --set quarantine.dir="$W/q")
echo "folder of 40 documents, $total bytes:"
printf '  1 thread   %6.3f s\n  2 threads  %6.3f s\n' "$t1" "$t2"
printf '  speed-up %.2fx on %s cores\n' "$(calc "$t1 / $t2")" "$(nproc)"
