#!/usr/bin/env bash
# A long run of one fuzz target, logged in fuzz/RUNS.md.
#
#   fuzz/long_run.sh TARGET SECONDS
#
# Fuzzes from the committed corpus (fuzz/corpus/TARGET) and the seeds (fuzz/seeds/TARGET, from
# make_seeds.py) into a working corpus, fuzz/corpus-work/TARGET (not committed), at the lowest
# CPU priority, then appends a line to RUNS.md: date, target, duration, executions, working
# corpus size, crashes, command. Minimise the working corpus into the committed one afterwards:
#
#   RUSTC_BOOTSTRAP=1 cargo fuzz cmin -s address -a --codegen-units 16 TARGET fuzz/corpus-work/TARGET
#   (then replace fuzz/corpus/TARGET with the result)
set -euo pipefail
cd "$(dirname "$0")/.."
target=$1
seconds=$2
work=fuzz/corpus-work/$target
mkdir -p "$work" fuzz/corpus/"$target"
log=fuzz/corpus-work/$target.log
dirs=("$work" "fuzz/corpus/$target")
[ -d "fuzz/seeds/$target" ] && dirs+=("fuzz/seeds/$target")
cmd=(cargo fuzz run --sanitizer address --debug-assertions --codegen-units 16 "$target" "${dirs[@]}"
     -- "-max_total_time=$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
started=$(date -u +%Y-%m-%dT%H:%MZ)
set +e
# Lowest priority for real: with autogroup scheduling (kernel.sched_autogroup_enabled=1, the
# default on most distributions' kernels) nice ranks tasks only inside their session's group,
# and every session gets an equal share of the CPUs, so a niced fuzzer still takes a whole core
# from a build or benchmark in another session. The run gets its own session (setsid) and that
# session's group is niced too.
RUSTC_BOOTSTRAP=1 setsid -w sh -c 'echo 19 > /proc/self/autogroup 2>/dev/null; exec nice -n 19 "$@"' sh "${cmd[@]}" > "$log" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
# libFuzzer's own time ("Done N runs in S second(s)"), without the build before it.
fuzzed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
crashes=$(ls fuzz/artifacts/"$target" 2>/dev/null | wc -l)
files=$(ls "$work" | wc -l)
bytes=$(du -sb "$work" | cut -f1)
verdict=$([ "$rc" -eq 0 ] && echo "0 crashes" || echo "FAILED (exit $rc): $crashes artifact(s) in fuzz/artifacts/$target")
echo "| $started | $target | ${fuzzed:-?} s | ${execs:-?} | $files files, $bytes bytes | $verdict | \`RUSTC_BOOTSTRAP=1 setsid nice -n 19 ${cmd[*]}\` (session group niced) |" >> fuzz/RUNS.md
tail -1 fuzz/RUNS.md
exit "$rc"
