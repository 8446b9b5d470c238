#!/usr/bin/env bash
# A/B helper for Bulwark's put path: one fresh 3-node cluster per build, Bulwark only (no etcd), puts at several
# client counts, CPU of the three nodes per 1,000 puts from /proc. Run A and B back to back (interleaved) and
# compare within the run; the load average is printed with every line because the machine may be shared.
#   bench/ab-put.sh LABEL BIN_DIR [KEY=VALUE ...]   BIN_DIR holds bulwark.dll (a copy of a Release build);
#                                                  KEY=VALUE are extra environment variables for the nodes
# Env: SECONDS_PER_PHASE (6), WARMUP (15), YIELDS=1 (also count sched_yield with perf stat), CLIENTS ("1 16 64 256"), BASE_PORT (23000), LOAD_DLL (bulwark-load.dll)
set -euo pipefail
label=$1; bin=$2; shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
load_dll=${LOAD_DLL:-$here/bench/Bulwark.Bench.Load/bin/Release/net10.0/bulwark-load.dll}
secs=${SECONDS_PER_PHASE:-6}; warm=${WARMUP:-15}; clients=${CLIENTS:-"1 16 64 256"}; base=${BASE_PORT:-23000}
root=$(mktemp -d /tmp/ab-put.XXXXXX)
cluster="" ; pids=()
for i in 0 1 2; do cluster+="${cluster:+,}n$i=http://127.0.0.1:$((base + 10 + i))"; done
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
for i in 0 1 2; do
  mkdir -p "$root/n$i"
  (cd "$root/n$i" && exec env "$@" dotnet "$bin/bulwark.dll" serve --name "n$i" --initial-cluster "$cluster" \
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
# the node subshells exec into dotnet, so each pid is the node process itself
cpu() { local t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo "$t"; }
if [ "$warm" != 0 ]; then
  dotnet "$load_dll" --endpoints "$leader" --clients 64 --conns 4 --workload mix --duration "$warm" --json /dev/null >/dev/null 2>&1 || true
fi
hz=$(getconf CLK_TCK)
for c in $clients; do
  conns=$(( c >= 256 ? 16 : c >= 64 ? 4 : 1 ))
  dotnet "$load_dll" --endpoints "$leader" --clients "$c" --conns "$conns" --workload put --val-size 256 --duration 2 --json /dev/null >/dev/null 2>&1 || true
  la=$(cut -d' ' -f1 /proc/loadavg); before=$(cpu)
  if [ "${YIELDS:-0}" = 1 ]; then  # count the nodes' sched_yield calls during the phase (needs perf and tracepoints)
    perf stat -x, -e syscalls:sys_enter_sched_yield -p "$(IFS=,; echo "${pids[*]}")" -o "$root/yields" sleep "$secs" &
    perf_pid=$!
  fi
  out=$(dotnet "$load_dll" --endpoints "$leader" --clients "$c" --conns "$conns" --workload put --val-size 256 --duration "$secs" --json - 2>/dev/null || true)
  after=$(cpu)
  if [ "${YIELDS:-0}" = 1 ]; then wait "$perf_pid"; echo "$label clients=$c sched_yield=$(grep sched_yield "$root/yields" | cut -d, -f1)"; fi
  echo "$out" | python3 -c "import json,sys
r=json.load(sys.stdin); ops=r.get('ops') or r.get('Ops') or 0
lat=r.get('latencyMs') or r.get('LatencyMs') or {}
cpu=($after-$before)/$hz
print(f'$label clients=$c ops/s={r.get(\"opsPerSecond\", r.get(\"OpsPerSecond\", 0)):.0f} p50={lat.get(\"p50\", 0):.2f} p99={lat.get(\"p99\", 0):.2f} cpu_s_per_1k={cpu/ops*1000 if ops else float(\"nan\"):.3f} load1=$la')"
done
