# Shared by the end-to-end benchmark scripts (sourced, not run).
#
# median COMMAND...: runs the command $RUNS times (output discarded, failures ignored) and
# prints the median wall time in seconds. A function `before_run`, when the caller defines one,
# runs before each run outside the timing (to remove the previous run's output).
median() {
  local ts=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    if declare -F before_run >/dev/null; then before_run; fi
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  done
  printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
