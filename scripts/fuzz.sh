#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer, no sanitizer: builds on stable Rust),
# one after the other, each for a given time, and keeps what they find as regression inputs.
#
#   scripts/fuzz.sh [-t SECONDS] [-r RUNS] [TARGET...]
#
#   -t SECONDS  time per target (default 60); -r RUNS  executions per target instead of a time
#   TARGET      targets to run (default: every one in fuzz/fuzz_targets/)
#
# Seeds come from samples/ (copied into fuzz/corpus/<target>/, which is not committed, at each
# run; the SMTP target's seeds are sessions made here around the sample messages). A finding is
# a panic (crash-*), an input slower than 10 s (timeout-*), or more than 2048 MB of memory in use
# or asked for at once (oom-*; single allocations: fuzz/src/alloc.rs). A timeout counts only when
# the input is slow again when run alone (a machine shared with other work can stall a run); one
# that is not is reported and the run goes on for the time left. A crash is minimized; each
# finding is copied to fuzz/regressions/<target>/, which `cargo test --test fuzz_regressions`
# replays, and the script exits with status 1. Logs: fuzz/logs/<target>.log (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=60
runs=
while getopts "t:r:" opt; do
  case $opt in
    t) secs=$OPTARG ;;
    r) runs=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-r RUNS] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi

# Release with debug assertions and overflow checks: an overflow is a finding too.
build=(-s none -O -a)
export CARGO_INCREMENTAL=0
(cd fuzz && cargo fuzz build "${build[@]}")
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release

# Seeds: which samples each target starts from.
seeds() {
  case $1 in
    detect | engine) find samples -type f ! -name EXPECTED.tsv ;;
    ooxml) find samples/ooxml -type f ! -name EXPECTED.tsv ;;
    ole2) find samples/ole2 -type f ! -name EXPECTED.tsv ;;
    odf) find samples/odf -type f ! -name EXPECTED.tsv ;;
    pdf) find samples/pdf -type f ! -name EXPECTED.tsv ;;
    rtf | rtf_token) find samples/rtf -type f ! -name EXPECTED.tsv ;;
    mime) find samples/mail -type f ! -name EXPECTED.tsv ;;
    markup) find samples/markup -type f ! -name EXPECTED.tsv ;;
    zip) find samples/archive -name '*.zip' ;;
    gzip) find samples/packed -name '*.gz' -o -name '*.tgz' ;;
    tar) find samples/packed -name '*.tar' ;;
    sevenz) find samples/packed -name '*.7z' ;;
    lzh) find samples/packed -name '*.lzh' ;;
    text) find samples/archive -name '*.txt' -o -name '*.csv' -o -name '*.slk' ;;
  esac
}

# Inputs above this are cut by libFuzzer; larger samples (the bombs) are left out of the seeds.
max_len=131072
mkdir -p fuzz/logs
found=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  if [ "$t" = smtp ]; then
    for m in samples/mail/*.eml; do
      [ "$(stat -c %s "$m")" -le $max_len ] || continue
      n=$(basename "$m" .eml)
      { printf 'EHLO client.example\r\nMAIL FROM:<a@example.com> BODY=8BITMIME\r\nRCPT TO:<b@example.com>\r\nDATA\r\n'
        sed -e 's/\r$//' -e 's/^\./../' -e 's/$/\r/' "$m"
        printf '.\r\nQUIT\r\n'; } > "$corpus/seed-data-$n"
      { printf 'LHLO client.example\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nBDAT %d LAST\r\n' "$(stat -c %s "$m")"
        cat "$m"; printf 'QUIT\r\n'; } > "$corpus/seed-bdat-$n"
    done
  else
    seeds "$t" | while read -r f; do
      [ "$(stat -c %s "$f")" -le $max_len ] || continue
      cp -n "$f" "$corpus/seed-$(basename "$f")"
    done
  fi
  log=fuzz/logs/$t.log
  : >"$log"
  if [ -n "$runs" ]; then what="$runs runs"; else what="$secs s"; fi
  echo "== $t: $what, log $log"
  began=$(date +%s)
  while :; do
    limit=(-runs="$runs")
    if [ -z "$runs" ]; then
      left=$((began + secs - $(date +%s)))
      [ "$left" -gt 0 ] || break
      limit=(-max_total_time="$left")
    fi
    start=$(mktemp)
    set +e
    (cd fuzz && nice -n 10 cargo fuzz run "${build[@]}" "$t" "corpus/$t" -- \
      "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=$max_len \
      -print_final_stats=1) >>"$log" 2>&1
    status=$?
    set -e
    new=$(find "$artifacts" -type f -newer "$start" ! -name 'minimized-from-*')
    rm -f "$start"
    real=0
    for a in $new; do
      name=$(basename "$a")
      keep=$a
      case $name in
        timeout-* | slow-unit-*)
          # A stalled machine (other work, a stopped process) also makes a unit slow: it
          # counts only when it is slow again on its own.
          if (cd fuzz && nice -n 10 "$bin/$t" -timeout=10 "../$a") >>"$log.rerun" 2>&1; then
            echo "   $name: not slow when run alone (the machine stalled); left in $artifacts"
            continue
          fi ;;
        crash-*)
          (cd fuzz && cargo fuzz tmin "${build[@]}" "$t" "../$a" -- -runs=2000) >"$log.tmin" 2>&1 || true
          m=$(ls -t "$artifacts"/minimized-from-* 2>/dev/null | head -1 || true)
          [ -n "$m" ] && keep=$m ;;
      esac
      real=1
      mkdir -p "fuzz/regressions/$t"
      cp "$keep" "fuzz/regressions/$t/${name%%-*}-$(sha256sum "$keep" | cut -c1-16)"
      echo "   finding kept: fuzz/regressions/$t/ ($name)"
    done
    if [ "$real" -eq 1 ] || { [ "$status" -ne 0 ] && [ -z "$new" ]; }; then
      found=1
      break
    fi
    # Done, or stopped by a timeout that did not hold up: on with the time left.
    [ "$status" -eq 0 ] || [ -n "$runs" ] && break
  done
  # Seconds as libFuzzer counts them (a run stopped by a finding: its last status line).
  awk '
    /^#[0-9]+\t/ { for (i = 1; i <= NF; i++) if ($i == "exec/s:") last = substr($1, 2) / ($(i + 1) ? $(i + 1) : 1) }
    /^Done [0-9]+ runs in [0-9]+ second/ { t += $5; last = 0 }
    /^stat::number_of_executed_units/ { n += $2; t += last; last = 0 }
    /^stat::peak_rss_mb/ { if ($2 > rss) rss = $2 }
    END { printf "   %d executions in %d s (%d/s), peak RSS %d MB", n, t, t ? n / t : 0, rss }' "$log"
  echo ", corpus $(find "$corpus" -type f | wc -l) files"
done
exit $found
