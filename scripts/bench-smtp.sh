#!/usr/bin/env bash
# Throughput of the SMTP filter on loopback, side by side in one run: Postfix's smtp-source
# straight to smtp-sink, then the same through `mugai serve` (smtp-source -> mugai -> smtp-sink).
#   - 10 KB plain messages: messages/s both ways and the ratio;
#   - messages with a 1 MB docm attachment (disarmed on the way): messages/s through mugai, and
#     the latency mugai adds per message (from the final dot to its reply, which includes the
#     relay to the sink), median and p99, from mugai's log lines.
# Messages are made by the project's own builders (examples/bench_smtp.rs). Needs smtp-source
# and smtp-sink (package postfix).
# Environment: PLAIN (messages per run, default 5000), RUNS (default 5), DOCM (default 200), SESSIONS (parallel sessions,
# default 8), THREADS (engine threads, default 0 = one per core).
set -euo pipefail
cd "$(dirname "$0")/.."
PLAIN=${PLAIN:-5000}
RUNS=${RUNS:-5}
DOCM=${DOCM:-200}
SESSIONS=${SESSIONS:-8}
THREADS=${THREADS:-0}
export PATH="$PATH:/usr/sbin"
cargo build --release --quiet --bin mugai --example bench_smtp
BIN=target/release/mugai
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
target/release/examples/bench_smtp "$W"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
user=(); [ "$(id -u)" = 0 ] && user=(-u nobody)

SINK=$(free_port)
smtp-sink "${user[@]}" "127.0.0.1:$SINK" 1024 & PIDS+=($!)
wait_port "$SINK"
MUGAI=$(free_port)
"$BIN" serve --set smtp.listen="127.0.0.1:$MUGAI" --set smtp.next_hop="127.0.0.1:$SINK" \
  --set quarantine.dir="$W/q" --set engine.threads="$THREADS" --set smtp.max_messages_in_engine=64 \
  --set log.format=json 2>"$W/mugai.log" & PIDS+=($!)
wait_port "$MUGAI"

# rate N FILE PORT: messages/s for N messages of FILE sent to PORT by SESSIONS sessions.
rate() {
  local t0 t1
  t0=$(date +%s.%N)
  smtp-source -s "$SESSIONS" -m "$1" -F "$2" -f sender@example.org -t rcpt@example.org "127.0.0.1:$3"
  t1=$(date +%s.%N)
  awk -v n="$1" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}'
}
relayed() { grep -c '"result":"250"' "$W/mugai.log" || true; }

median_of() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores; $SESSIONS parallel sessions"
# Alternating runs, so that both paths see the same machine noise; medians.
ds=(); ts=()
for _ in $(seq "$RUNS"); do
  ds+=("$(rate "$PLAIN" "$W/plain_10k.eml" "$SINK")")
  ts+=("$(rate "$PLAIN" "$W/plain_10k.eml" "$MUGAI")")
done
direct=$(median_of "${ds[@]}")
through=$(median_of "${ts[@]}")
n=$(relayed)
echo "10 KB plain messages, $PLAIN per run, median of $RUNS runs each way (direct: ${ds[*]}; through mugai: ${ts[*]}):"
echo "  smtp-source -> smtp-sink           $direct msg/s"
echo "  smtp-source -> mugai -> smtp-sink  $through msg/s ($n of $((PLAIN * RUNS)) relayed with 250)"
awk -v a="$through" -v b="$direct" 'BEGIN {printf "  ratio                              %.0f%%\n", 100 * a / b}'

: >"$W/mugai.log.docm"
before=$(wc -l <"$W/mugai.log")
docm=$(rate "$DOCM" "$W/docm_1m.eml" "$MUGAI")
tail -n +"$((before + 1))" "$W/mugai.log" | grep '"message":"message"' >"$W/mugai.log.docm" || true
n=$(grep -c '"result":"250"' "$W/mugai.log.docm" || true)
echo "messages with a 1 MB docm attachment ($(stat -c %s "$W/docm_1m.eml") bytes), $DOCM through mugai:"
echo "  smtp-source -> mugai -> smtp-sink  $docm msg/s ($n relayed with 250)"
grep -o '"ms":[0-9]*' "$W/mugai.log.docm" | cut -d: -f2 | sort -n |
  awk '{a[NR]=$1} END {if (NR) printf "  added latency per message          median %d ms, p99 %d ms\n", a[int((NR+1)/2)], a[int(NR*0.99+0.999)]}'
