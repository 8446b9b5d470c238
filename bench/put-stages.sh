#!/usr/bin/env bash
# Where a put spends its time inside the members (issue 17; docs/benchmarks.md, "The lone-client put, stage by stage").
# One fresh 3-node Bulwark cluster (no etcd) started with BULWARK_TRACE_PUT_STAGES=1, CLIENTS puts (default 1) against
# the leader for SECONDS_PER_PHASE, then: the leader's stage table and a follower's (from /debug/put-stages), the
# client's own p50/p99, and per put: CPU of the three nodes and of the leader (/proc/<pid>/stat), and on the leader its
# allocated bytes, thread-pool work items and context switches. The load average is printed with the numbers.
#   bench/put-stages.sh
# Env: SECONDS_PER_PHASE (10), WARMUP (15; 64-client mix so the JIT has tiered up), CLIENTS (1), CONNS (1),
#      TRACE (1; 0 runs the same load with tracing off: the per-put counters without the tracer's own cost),
#      STRACE (0; 1 adds a phase under `strace -c -f` on the leader: syscalls per put, slow, separate numbers),
#      PERF (0; 1 adds a phase under `perf record -g` on the leader, nodes run with DOTNET_PerfMapEnabled=1; report kept),
#      SKIP_BUILD (0; 1 uses the Release builds already there), BASE_PORT (23100), KEEP (0; 1 keeps the data and logs under /tmp/put-stages.*), extra node env as KEY=VALUE args.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${SECONDS_PER_PHASE:-10}; warm=${WARMUP:-15}; clients=${CLIENTS:-1}; conns=${CONNS:-1}; base=${BASE_PORT:-23100}
trace=${TRACE:-1}
root=$(mktemp -d /tmp/put-stages.XXXXXX)
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build "$here/src/Bulwark.Cli" -c Release -v q -nologo >/dev/null
  dotnet build "$here/bench/Bulwark.Bench.Load" -c Release -v q -nologo >/dev/null
fi
# A private copy of the build, so a rebuild during the run does not change what is measured.
cp -r "$here/src/Bulwark.Cli/bin/Release/net10.0" "$root/bin"
load_dll=$here/bench/Bulwark.Bench.Load/bin/Release/net10.0/bulwark-load.dll
node_env=("BULWARK_TRACE_PUT_STAGES=$trace" "$@")
[ "${PERF:-0}" = 1 ] && node_env+=("DOTNET_PerfMapEnabled=1")
cluster="" ; pids=()
for i in 0 1 2; do cluster+="${cluster:+,}n$i=http://127.0.0.1:$((base + 10 + i))"; done
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ "${KEEP:-0}" = 1 ] || rm -rf "$root"; }
trap cleanup EXIT
for i in 0 1 2; do
  mkdir -p "$root/n$i"
  (cd "$root/n$i" && exec env "${node_env[@]}" dotnet "$root/bin/bulwark.dll" serve --name "n$i" --initial-cluster "$cluster" \
      --data-dir "$root/n$i" --listen-client-urls "http://127.0.0.1:$((base + i))" \
      --listen-peer-urls "http://127.0.0.1:$((base + 10 + i))" --listen-metrics-urls "http://127.0.0.1:$((base + 20 + i))" \
      >"$root/n$i.log" 2>&1) &
  pids+=($!)
done
eps="http://127.0.0.1:$base,http://127.0.0.1:$((base + 1)),http://127.0.0.1:$((base + 2))"
leader=""
for _ in $(seq 1 120); do
  leader=$(ETCDCTL_API=3 etcdctl --endpoints "$eps" endpoint status -w json 2>/dev/null \
    | python3 -c 'import json,sys
s=json.load(sys.stdin)
print(next((e["Endpoint"] for e in s if e["Status"]["header"]["member_id"]==e["Status"]["leader"]),""))' 2>/dev/null || true)
  [ -n "$leader" ] && break
  sleep 0.5
done
[ -n "$leader" ] || { echo "no leader"; tail -5 "$root"/n*.log; exit 1; }
li=$(( ${leader##*:} - base )); fi_=$(( (li + 1) % 3 ))
admin() { echo "http://127.0.0.1:$((base + 20 + $1))"; }
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_all() { local t=0; for p in "${pids[@]}"; do t=$((t + $(cpu_of "$p"))); done; echo "$t"; }
load() {  # load DURATION [extra flags]: one put phase against the leader, JSON on stdout
  dotnet "$load_dll" --endpoints "$leader" --clients "$clients" --conns "$conns" --workload put --val-size 256 --duration "$1" --json - 2>/dev/null
}
if [ "$warm" != 0 ]; then
  dotnet "$load_dll" --endpoints "$leader" --clients 64 --conns 4 --workload mix --duration "$warm" --json /dev/null >/dev/null 2>&1 || true
fi
load 2 >/dev/null || true
for i in 0 1 2; do curl -sf -X POST "$(admin "$i")/debug/put-stages/reset" >/dev/null; done
la=$(cut -d' ' -f1-3 /proc/loadavg); before_all=$(cpu_all); before_leader=$(cpu_of "${pids[$li]}")
out=$(load "$secs")
after_all=$(cpu_all); after_leader=$(cpu_of "${pids[$li]}"); la_after=$(cut -d' ' -f1-3 /proc/loadavg)
leader_report=$(curl -sf "$(admin "$li")/debug/put-stages")
follower_report=$(curl -sf "$(admin "$fi_")/debug/put-stages")
hz=$(getconf CLK_TCK)
echo "## Bulwark put stages: $clients client(s), $secs s, tracing $([ "$trace" = 1 ] && echo on || echo off), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "load average before: $la; after: $la_after ($(nproc) cores)"
echo
echo "$out" | python3 -c "import json,sys,re
r=json.load(sys.stdin); ops=r.get('ops') or 0; lat=r.get('latencyMs') or {}
rep=sys.argv[1]
def counter(name):
    m=re.search(r'^\s+'+name+r' (-?\d+)', rep, re.M); return int(m.group(1)) if m else float('nan')
per=lambda v: v/ops if ops else float('nan')
print(f'client: {ops} puts, {r.get(\"opsPerSecond\", 0):.0f}/s, p50 {lat.get(\"p50\", 0)*1000:.0f} µs, p99 {lat.get(\"p99\", 0)*1000:.0f} µs, p99.9 {lat.get(\"p999\", lat.get(\"p99.9\", 0))*1000:.0f} µs')
print(f'CPU per 1k puts: cluster {($after_all-$before_all)/$hz/ops*1000 if ops else 0:.3f} s, leader {($after_leader-$before_leader)/$hz/ops*1000 if ops else 0:.3f} s')
print(f'leader per put: {per(counter(\"allocated_bytes\")):.0f} B allocated, {per(counter(\"pool_work_items\")):.2f} thread-pool work items, {per(counter(\"context_switches\")):.2f} context switches')
" "$leader_report"
echo
echo "### leader (n$li)"
echo
echo "$leader_report"
echo "### follower (n$fi_)"
echo
echo "$follower_report"
if [ "${STRACE:-0}" = 1 ]; then
  strace -c -f -p "${pids[$li]}" -o "$root/strace.txt" &
  strace_pid=$!
  sleep 1
  sout=$(load "$secs")
  kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
  sops=$(echo "$sout" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("ops") or 0)')
  echo "### leader syscalls under strace -c -f ($sops puts; strace slows every call, so only the counts mean anything)"
  echo
  echo '```'
  awk -v ops="$sops" 'NR<=2 || /^-/ {print; next} /total/ {printf "%s   (%.1f per put)\n", $0, $4/ops; next} NF>=5 {printf "%s   (%.2f per put)\n", $0, $4/ops}' "$root/strace.txt" | head -30 || true
  echo '```'
fi
if [ "${PERF:-0}" = 1 ]; then
  perf record -g -F 999 -p "${pids[$li]}" -o "$root/perf.data" -- sleep "$secs" >/dev/null 2>&1 &
  perf_pid=$!
  load "$secs" >/dev/null
  wait "$perf_pid" || true
  echo "### leader perf profile (top frames, self; data in $root/perf.data)"
  echo
  echo '```'
  perf report -i "$root/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -25 || true
  echo '```'
  KEEP=1
fi
