#!/usr/bin/env bash
# End-to-end speed of `mugai sanitize` on PDFs of 1, 100 and 1000 pages (`examples/bench_pdf`:
# text, links, pictures, an outline), measured side by side in the same run with:
#  - qpdf IN OUT                        a plain full rewrite that removes nothing
#  - scripts/pikepdf_disarm.py IN OUT   a disarm written with pikepdf (qpdf underneath)
# Each command runs RUNS times (default 5); the median wall time is reported, with MB/s, pages/s
# and how many times faster mugai is than each of the other two (above 1: mugai is faster).
#
# Nothing is installed silently. qpdf comes from the system's packages (`apt-get install -y qpdf`).
# pikepdf is used from python3 when it imports there, else from the virtual environment
# $VENV (default ~/.cache/mugai-bench/venv); `scripts/bench-pdf.sh --setup` creates that
# environment and installs pikepdf into it with pip before measuring. A missing tool is reported
# with how to get it, and its rows are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
VENV=${VENV:-$HOME/.cache/mugai-bench/venv}
PAGES=(1 100 1000)

setup=0
for arg in "$@"; do
  case $arg in
    --setup) setup=1 ;;
    -h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "usage: $0 [--setup]   (RUNS=N to change the number of runs)" >&2; exit 2 ;;
  esac
done

# qpdf
QPDF=$(command -v qpdf || true)
if [ -z "$QPDF" ]; then
  echo "qpdf not found: its rows are left out. Install it with: sudo apt-get install -y qpdf" >&2
fi

# pikepdf: python3 if it has it, else the benchmark venv; --setup creates the venv.
PY=""
if python3 -c 'import pikepdf' 2>/dev/null; then
  PY=python3
elif [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pikepdf' 2>/dev/null; then
  PY="$VENV/bin/python"
elif [ "$setup" = 1 ]; then
  echo "creating $VENV and installing pikepdf into it (pip install pikepdf)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet pikepdf
  PY="$VENV/bin/python"
else
  cat >&2 <<EOF
pikepdf not found: its rows are left out. Get it with
    python3 -m venv $VENV && $VENV/bin/pip install pikepdf
or let this script do exactly that: $0 --setup
EOF
fi

cargo build --release --quiet --bin mugai --example bench_pdf
BIN=target/release/mugai
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
calc() { awk "BEGIN {print $1}"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -n 1; }

notes=()
printf '%6s %10s  %-16s %9s %9s %10s %14s\n' pages bytes tool seconds MB/s pages/s "mugai faster"
for n in "${PAGES[@]}"; do
  in="$W/doc$n.pdf"
  target/release/examples/bench_pdf "$in" "$n"
  size=$(stat -c %s "$in")

  # One checked run of each tool first, so a failure is seen instead of timed.
  "$BIN" sanitize "$in" --out "$W/out" --report "$W/report.jsonl" --set quarantine.dir="$W/q" \
    >/dev/null 2>&1 || true
  verdict=$(field verdict "$W/report.jsonl")
  if [ "$verdict" != disarmed ]; then
    notes+=("$n-page file: mugai's verdict was '${verdict:-none}' ($(field reason "$W/report.jsonl")): its time is not that of a disarm")
  fi
  rm -rf "$W/out" "$W/q" "$W/report.jsonl"
  m=$(median "$BIN" sanitize "$in" --out "$W/out" --set quarantine.dir="$W/q")
  printf '%6d %10d  %-16s %9.4f %9.1f %10.0f %14s\n' "$n" "$size" "mugai sanitize" "$m" \
    "$(calc "$size / $m / 1000000")" "$(calc "$n / $m")" "-"

  if [ -n "$QPDF" ]; then
    rc=0; "$QPDF" "$in" "$W/qpdf.pdf" >/dev/null 2>&1 || rc=$?
    # qpdf exits 3 when it warned but wrote the file.
    if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then echo "qpdf failed on $in (exit $rc)" >&2; exit 1; fi
    q=$(median "$QPDF" "$in" "$W/qpdf.pdf")
    printf '%6s %10s  %-16s %9.4f %9.1f %10.0f %13.2fx\n' "" "" "qpdf rewrite" "$q" \
      "$(calc "$size / $q / 1000000")" "$(calc "$n / $q")" "$(calc "$q / $m")"
  fi

  if [ -n "$PY" ]; then
    "$PY" scripts/pikepdf_disarm.py "$in" "$W/pikepdf.pdf" >/dev/null \
      || { echo "pikepdf_disarm.py failed on $in" >&2; exit 1; }
    p=$(median "$PY" scripts/pikepdf_disarm.py "$in" "$W/pikepdf.pdf")
    printf '%6s %10s  %-16s %9.4f %9.1f %10.0f %13.2fx\n' "" "" "pikepdf disarm" "$p" \
      "$(calc "$size / $p / 1000000")" "$(calc "$n / $p")" "$(calc "$p / $m")"
  fi
done
echo "median of $RUNS runs each, wall time including process start; MB = 10^6 bytes; $(nproc) cores"
for note in "${notes[@]}"; do echo "note: $note"; done
