#!/usr/bin/env bash
# Drop folder throughput: a folder of mixed documents (the project's own Office, legacy Office,
# OpenDocument, PDF and RTF samples, and larger documents made by examples/bench_doc.rs, under
# new names up to FILES) put into the inbox
# of `mugai serve`, timed from the service's start until every file has its report, with the
# engine on 1 thread and on 2. Each file is claimed, disarmed, written out (synced) and
# reported. Prints the medians and the speed-up.
# Environment: FILES (default 500), RUNS (default 5).
set -euo pipefail
shopt -s nullglob
# Globs sort by bytes: cheap, and the same everywhere.
export LC_ALL=C
cd "$(dirname "$0")/.."
FILES=${FILES:-500}
RUNS=${RUNS:-5}
cargo build --release --quiet --bin mugai --example bench_doc
BIN=$PWD/target/release/mugai
W=$(mktemp -d)

# The documents: every sample of the document formats (small files, many of them hostile),
# and office documents of the sizes people mail and exchange (docx and docm with pictures,
# 100 KB to 2 MB; PDFs of 5 to 100 pages), one large for every two samples, with a number in
# front of each name.
mapfile -t SRC < <(find samples/ooxml samples/ole2 samples/odf samples/pdf samples/rtf -type f ! -name EXPECTED.tsv | sort)
mkdir -p "$W/docs" "$W/large"
SIZES=(100000 250000 500000 1000000 2000000)
KINDS=(docx docm pdf)
n=0
for s in "${SIZES[@]}"; do
  for k in "${KINDS[@]}"; do
    target/release/examples/bench_doc "$W/large/$n.$k" "$s" "$k"
    n=$((n + 1))
  done
done
mapfile -t LARGE < <(find "$W/large" -type f | sort)
for i in $(seq 0 $((FILES - 1))); do
  if [ $((i % 3)) = 2 ]; then f=${LARGE[$((i / 3 % ${#LARGE[@]}))]}; else f=${SRC[$((i % ${#SRC[@]}))]}; fi
  cp "$f" "$W/docs/$(printf '%04d' "$i")_$(basename "$f")"
done
cat >"$W/config.toml" <<CFG
[smtp]
enabled = false
[quarantine]
dir = "q"
[[dropfolder]]
inbox = "inbox"
clean = "clean"
report = "report"
settle_secs = 0
rescan_secs = 1
CFG

# Each run gets a new ext4 file system (a loop device over a file, when run as root with
# mkfs.ext4 and losetup at hand): on a file system that has just had thousands of files made
# and removed, ext4 skips recently freed inodes when it makes new ones, so every run would be
# slower than the one before, and the alternating runs would not see the same disk. Elsewhere
# the runs share the temporary folder.
FS=$W/fs
can_fresh() { [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null; }
# The loop device reads and writes its file with direct I/O, as a disk would: a buffered loop
# device caches every block twice and writes it back twice, once for each file system, and
# that second writeback is CPU taken from the service that no real disk would take.
# Detached once mounted, the device goes away with the unmount.
fresh_fs() {
  mountpoint -q "$FS" && umount "$FS"
  rm -f "$W/fs.img"
  truncate -s $((4 * $(du -sm "$W/docs" | cut -f1) + 512))M "$W/fs.img"
  local dev
  dev=$(losetup --direct-io=on --find --show "$W/fs.img")
  mkfs.ext4 -q -F "$dev" && mkdir -p "$FS" && mount "$dev" "$FS" && losetup -d "$dev"
}
FS_KIND="the temporary folder"
can_fresh && FS_KIND="a new ext4 file system per run"
trap 'mountpoint -q "$FS" && umount "$FS"; rm -rf "$W"' EXIT
before_run() {
  if can_fresh; then
    fresh_fs
  else
    rm -rf "$FS"
    mkdir -p "$FS"
  fi
  cp "$W/config.toml" "$FS/"
  mkdir -p "$FS/inbox"
  cp "$W/docs/"* "$FS/inbox/"
  # On disk before the clock starts: the copy's writeback is not the service's work, and would
  # otherwise land in whichever run comes next.
  sync
}
# run THREADS: starts the service and prints the seconds from its start until the last report
# was placed (the service's stop, which waits for nothing, is not counted). Both ends are read
# from the file system's clock: the start from a file touched just before the service starts,
# the end from the report folder's modification time (each report is renamed into it). The
# watching loop wakes every 0.1 s without starting a process and counts the reports with a
# glob, so that it takes next to no CPU from the service it times: a loop forking `sleep` every
# 10 ms, as this script first had, took as much CPU as the drop folder's own scanner.
run() {
  before_run
  local pid reports=() tick
  exec {tick}<> <(:)
  touch "$FS/.start"
  (cd "$FS" && exec "$BIN" serve --config config.toml --set engine.threads="$1" 2>/dev/null) &
  pid=$!
  until [ "${#reports[@]}" -ge "$FILES" ]; do
    read -r -t 0.1 -u "$tick" || true
    reports=("$FS"/report/*.json)
  done
  exec {tick}<&-
  kill "$pid"; wait "$pid" || true
  awk -v a="$(stat -c %.9Y "$FS/.start")" -v b="$(stat -c %.9Y "$FS/report")" 'BEGIN {print b - a}'
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ones=(); twos=()
# Alternating, so that both see the same machine noise.
for _ in $(seq "$RUNS"); do ones+=("$(run 1)"); twos+=("$(run 2)"); done
one=$(med "${ones[@]}")
two=$(med "${twos[@]}")
echo "machine: $(nproc) cores; $FILES documents ($(du -sh "$W/docs" | cut -f1)): ${#SRC[@]} samples and ${#LARGE[@]} larger documents, cycled; on $FS_KIND; median of $RUNS runs (1 thread: ${ones[*]}; 2 threads: ${twos[*]})"
awk -v n="$FILES" -v a="$one" -v b="$two" 'BEGIN {
  printf "  1 thread   %.2f s  (%.0f files/s)\n", a, n / a
  printf "  2 threads  %.2f s  (%.0f files/s)\n", b, n / b
  printf "  speed-up   %.2fx\n", a / b
}'
