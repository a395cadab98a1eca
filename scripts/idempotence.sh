#!/usr/bin/env bash
# Disarm is deterministic and idempotent, checked end to end with `mugai sanitize`:
#
#   run A   every file under samples/ (and under $MUGAI_CORPUS, when set and present)
#   run B   the same inputs again: the same clean bytes and the same report (verdicts, reasons,
#           actions, hashes) as run A
#   run C   every clean output of run A sanitized again: nothing blocked, no actions, and the
#           same bytes out as in; for mail messages, but for the X-Mugai-Result fields, which
#           state the verdict of the pass that wrote them and must now all say `clean`
#
# Prints the counts of each run and every difference; exits 1 when there is any.
#
#   scripts/idempotence.sh                       # samples only
#   MUGAI_CORPUS=/path/to/files scripts/idempotence.sh
#
# MUGAI_BIN names the binary to run (default: target/release/mugai, built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${MUGAI_BIN:-target/release/mugai}
if [[ ! -x $BIN ]]; then
  cargo build --release --bin mugai
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A quarantine of its own, so that held originals stay out of the configured store.
sanitize() {
  "$BIN" --set "quarantine.dir=\"$work/quarantine\"" sanitize "$@" >/dev/null 2>"$work/last.err" || {
    # 1 only says something was blocked or held; 2 is a usage or I/O failure.
    local rc=$?
    if [[ $rc -ne 1 ]]; then
      cat "$work/last.err" >&2
      exit "$rc"
    fi
  }
  tail -n 1 "$work/last.err" >&2
}

sets=(samples)
if [[ -n ${MUGAI_CORPUS:-} ]]; then
  if [[ -d $MUGAI_CORPUS ]]; then
    sets+=("$MUGAI_CORPUS")
  else
    echo "MUGAI_CORPUS=$MUGAI_CORPUS is not a folder: corpus skipped" >&2
  fi
fi

status=0
for i in "${!sets[@]}"; do
  src=${sets[$i]}
  echo "== $src" >&2
  for run in a b; do
    sanitize "$src" --out "$work/$i.$run" --report "$work/$i.$run.jsonl"
  done
  sanitize "$work/$i.a" --out "$work/$i.c" --report "$work/$i.c.jsonl"
  python3 - "$work/$i" <<'EOF' || status=1
import json, sys

base = sys.argv[1]

def load(run):
    with open(f"{base}.{run}.jsonl", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    root = f"{base}.{run}"
    return lines, root

def strip(line, root, key):
    p = line.get(key)
    return p[len(root):] if p and p.startswith(root) else p

def split_result_fields(data):
    """A mail message without its X-Mugai-Result fields (and their folded lines), and them."""
    rest, fields, in_field = [], [], False
    for line in data.splitlines(keepends=True):
        if line.startswith(b"X-Mugai-Result:"):
            fields.append(line)
            in_field = True
        elif in_field and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            in_field = False
            rest.append(line)
    return b"".join(rest), fields

def mail_fixed_point(first, second):
    with open(first, "rb") as f:
        a, before = split_result_fields(f.read())
    with open(second, "rb") as f:
        b, after = split_result_fields(f.read())
    return a == b and len(before) == len(after) and all(x.startswith(b"X-Mugai-Result: clean") for x in after)

def stable(line):
    """What must not change between two runs on the same input. The detail of a limit reached
    while entries are disarmed in parallel names the entry that crossed it first, which the
    scheduling decides; the reason is the same."""
    keep = ["input", "verdict", "kind", "output_kind", "actions", "reason", "findings",
            "sha256_in", "sha256_out", "size_in"]
    if not (line.get("reason") or "").startswith("limit_"):
        keep.append("detail")
    return {k: line.get(k) for k in keep}

a, ra = load("a")
b, rb = load("b")
c, rc = load("c")
problems = []
result_fields = 0

by_input = {x["input"]: x for x in b}
for x in a:
    y = by_input.get(x["input"])
    if y is None:
        problems.append(f"run B has no line for {x['input']}")
    elif stable(x) != stable(y) or strip(x, ra, "output") != strip(y, rb, "output"):
        problems.append(f"not deterministic: {x['input']}: {stable(x)} / {stable(y)}")

second = {strip(x, ra, "input"): x for x in c}
clean = [x for x in a if x["verdict"] != "blocked"]
for x in clean:
    rel = strip(x, ra, "output")
    y = second.get(rel)
    if y is None:
        problems.append(f"run C did not see the output of {x['input']}")
        continue
    if y["verdict"] == "blocked":
        problems.append(f"output of {x['input']} blocked on a second pass: {y['reason']} {y.get('detail')}")
    elif y["actions"]:
        acts = [(z["action"], z.get("part")) for z in y["actions"]]
        problems.append(f"second pass of {x['input']} still acts: {acts}")
    elif y["sha256_out"] != y["sha256_in"]:
        if (y.get("output_kind") or y["kind"]) == "eml" and mail_fixed_point(x["output"], y["output"]):
            result_fields += 1
        else:
            problems.append(f"second pass of {x['input']} changed the bytes")

count = lambda lines, v: sum(1 for x in lines if x["verdict"] == v)
print(f"run A: {len(a)} inputs: {count(a, 'kept')} kept, {count(a, 'disarmed')} disarmed, "
      f"{count(a, 'blocked')} blocked; run B the same: {len(a) - sum(1 for p in problems if p.startswith(('not det', 'run B')))}; "
      f"run C: {len(clean)} outputs, {len(clean) - sum(1 for p in problems if not p.startswith(('not det', 'run B')))} fixed points"
      f" ({result_fields} mail messages of them differ only in X-Mugai-Result, now clean)")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
EOF
done
exit $status
