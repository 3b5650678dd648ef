# Sourced by the bench scripts: one row of an "ours vs theirs" comparison.
#   compare_row LABEL PLACE DIR RUNS OURS_NAME OURS_SCRIPT THEIRS_NAME THEIRS_SCRIPT
# Runs both scripts in alternating rounds in DIR (bench/interleave.py: fair on a
# shared, loaded machine), prints "LABEL PLACE ours wall/cpu theirs wall/cpu
# ratio" in medians, and returns 1 when ours is not faster.
compare_row() {
  local label=$1 place=$2 dir=$3 runs=$4 ours_name=$5 ours_script=$6 theirs_name=$7 theirs_script=$8
  local results ours ours_cpu theirs theirs_cpu ratio
  results=$(python3 "$(dirname "${BASH_SOURCE[0]}")/interleave.py" "$runs" "$dir" \
    "$ours_name=$ours_script" "$theirs_name=$theirs_script")
  read -r _ ours ours_cpu < <(grep "^$ours_name " <<< "$results")
  read -r _ theirs theirs_cpu < <(grep "^$theirs_name " <<< "$results")
  ratio=$(python3 -c 'import sys; print("%.2fx" % (float(sys.argv[2]) / float(sys.argv[1])))' "$ours" "$theirs")
  printf '%-9s %-6s %24s %18s %10s\n' "$label" "$place" "$ours / $ours_cpu" "$theirs / $theirs_cpu" "$ratio"
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$ours" "$theirs" \
    || { echo "  $ours_name is NOT faster than $theirs_name for $label on $place" >&2; return 1; }
}
