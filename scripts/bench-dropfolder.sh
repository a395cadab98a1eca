#!/usr/bin/env bash
# Drop folder throughput: a folder of mixed documents (the project's own Office, legacy Office,
# OpenDocument, PDF and RTF samples, and larger documents made by examples/bench_doc.rs, under
# new names up to FILES) given to `mugai serve`, timed until every file has its report, with
# the engine on 1 thread and on 2: moved into the inbox of a running service, and already in
# the inbox when the service starts (see `run`). Each file is claimed, disarmed, written out
# and reported. Outputs are synced by a group commit once the engine has no file left to do, or
# a second after the first of a batch while it goes on: the sync of a burst the size of the
# default (about 0.2-0.35 s) comes after its last report and is not timed; a longer run
# (FILES=5000: 2-4 s) has its syncs timed. Prints the medians and the speed-ups.
# Environment: FILES (default 500), RUNS (default 5), MUGAI_BIN (another build of mugai to time,
# such as an earlier version's, instead of this checkout's), MIX (default `samples`: two samples
# for every larger document; `large`: the larger documents only).
set -euo pipefail
shopt -s nullglob
# Globs sort by bytes: cheap, and the same everywhere.
export LC_ALL=C
cd "$(dirname "$0")/.."
FILES=${FILES:-500}
RUNS=${RUNS:-5}
cargo build --release --quiet --bin mugai --example bench_doc
BIN=${MUGAI_BIN:-$PWD/target/release/mugai}
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
MIX=${MIX:-samples}
for i in $(seq 0 $((FILES - 1))); do
  if [ "$MIX" = large ] || [ $((i % 3)) = 2 ]; then f=${LARGE[$((i / 3 % ${#LARGE[@]}))]}; else f=${SRC[$((i % ${#SRC[@]}))]}; fi
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
# The documents wait in a folder beside the inbox, on the same file system, to be moved in
# at once (a running service), or are in the inbox before the service starts (a start).
before_run() {
  if can_fresh; then
    fresh_fs
  else
    rm -rf "$FS"
    mkdir -p "$FS"
  fi
  cp "$W/config.toml" "$FS/"
  mkdir -p "$FS/inbox" "$FS/waiting/batch"
  cp "$W/docs/"* "$FS/waiting/batch/"
  [ "$1" = start ] && mv "$FS/waiting/batch/"* "$FS/inbox/"
  # On disk before the clock starts: the copy's writeback is not the service's work, and would
  # otherwise land in whichever run comes next.
  sync
}
# run MODE THREADS: prints the seconds the service took for the documents, until the last
# report was placed (the service's stop, which waits for nothing, is not counted).
#   running: the service is started on an empty inbox and left to settle (half a second);
#            then the documents' folder is moved into the inbox in one rename, as a
#            transfer tool that writes under another name does. Timed from that rename.
#   start:   the documents are in the inbox when the service starts. Timed from the start,
#            which adds the process start and the making of a new quarantine store (its
#            synced writes) to both runs.
# Both ends are read from the file system's clock: the start from the inbox's modification
# time after the rename, or from a file touched just before the service starts; the end from
# the report folder's (each report is renamed into it). The watching loop wakes every 0.1 s
# without starting a process and counts the reports with a glob, so that it takes next to no
# CPU from the service it times: a loop forking `sleep` every 10 ms, as this script first had,
# took as much CPU as the drop folder's own scanner.
run() {
  before_run "$1"
  local pid reports=() tick start reportdir=$FS/report
  exec {tick}<> <(:)
  if [ "$1" = start ]; then
    touch "$FS/.start"
    start=$FS/.start
  else
    reportdir=$FS/report/batch
    start=$FS/inbox
  fi
  (cd "$FS" && exec "$BIN" serve --config config.toml --set engine.threads="$2" 2>/dev/null) &
  pid=$!
  if [ "$1" = running ]; then
    read -r -t 0.5 -u "$tick" || true
    mv "$FS/waiting/batch" "$FS/inbox/batch"
  fi
  until [ "${#reports[@]}" -ge "$FILES" ]; do
    read -r -t 0.1 -u "$tick" || true
    reports=("$reportdir"/*.json)
  done
  exec {tick}<&-
  kill "$pid"; wait "$pid" || true
  awk -v a="$(stat -c %.9Y "$start")" -v b="$(stat -c %.9Y "$reportdir")" 'BEGIN {print b - a}'
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ones=(); twos=(); cold1=(); cold2=()
# Alternating, so that both see the same machine noise.
for _ in $(seq "$RUNS"); do
  ones+=("$(run running 1)"); twos+=("$(run running 2)")
  cold1+=("$(run start 1)"); cold2+=("$(run start 2)")
done
echo "machine: $(nproc) cores; $FILES documents ($(du -sh "$W/docs" | cut -f1), mix $MIX): ${#SRC[@]} samples and ${#LARGE[@]} larger documents, cycled; on $FS_KIND; median of $RUNS runs"
report() {
  local one two
  # shellcheck disable=SC2086 # one word per run
  one=$(med ${!2})
  # shellcheck disable=SC2086
  two=$(med ${!3})
  echo "$1 (1 thread: ${!2}; 2 threads: ${!3})"
  awk -v n="$FILES" -v a="$one" -v b="$two" 'BEGIN {
    printf "  1 thread   %.3f s  (%.0f files/s)\n", a, n / a
    printf "  2 threads  %.3f s  (%.0f files/s)\n", b, n / b
    printf "  speed-up   %.2fx\n", a / b
  }'
}
report "moved into a running service" 'ones[*]' 'twos[*]'
report "in the inbox at the service's start" 'cold1[*]' 'cold2[*]'
