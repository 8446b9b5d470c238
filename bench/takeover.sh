#!/usr/bin/env bash
# Takeover time of samples/MasterBackup after SIGKILL of the master: from the kill to the moment a backup's campaign
# returned (the hosting library logs "won leadership ... at unix-ms N"; same machine clock as the kill).
# Three configurations, each on a fresh 3-member cluster on loopback, three workers, the same TTL:
#   bulwark-rod   Bulwark, sessions with release on disconnect (the worker's default)
#   bulwark-ttl   Bulwark, plain TTL sessions (--release-on-disconnect false)
#   etcd          Debian etcd 3.4, the same sample (etcd ignores the release header: a plain TTL session)
# Usage: bench/takeover.sh [--runs 10] [--ttl 5] [--only bulwark-rod|bulwark-ttl|etcd] [--base-port 24100] [--out DIR]
# Not part of CI. Prints a Markdown table (median and worst per configuration) and keeps every log under --out.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10 ttl=5 only="" base=24100 out="/tmp/bulwark-takeover/$(date -u +%Y%m%dT%H%M%SZ)"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --ttl) ttl=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v etcd >/dev/null || { echo "etcd not found: apt-get install etcd-server etcd-client" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }

dotnet build src/Bulwark.Cli -c Release -v q -nologo >/dev/null
dotnet build samples/MasterBackup/Worker -c Release -v q -nologo >/dev/null
bulwark_dll=$PWD/src/Bulwark.Cli/bin/Release/net10.0/bulwark.dll
worker_dll=$PWD/samples/MasterBackup/Worker/bin/Release/net10.0/MasterBackup.Worker.dll
mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; pids=(); }
trap cleanup EXIT

now_ms() { date +%s%3N; }

# wait_for CMD... : poll (every 50 ms, up to 120 s) until CMD succeeds.
wait_for() {
  local deadline=$(( $(now_ms) + 120000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.05
  done
}

start_bulwark() { # dir -> endpoints on stdout; members' client ports base, base+3, base+6
  local dir=$1 cluster="" i
  for i in 0 1 2; do cluster+="${cluster:+,}n$((i+1))=http://127.0.0.1:$((base+3*i+1))"; done
  for i in 0 1 2; do
    dotnet "$bulwark_dll" serve --name "n$((i+1))" --initial-cluster "$cluster" --data-dir "$dir/n$((i+1))" \
      --listen-client-urls "http://127.0.0.1:$((base+3*i))" --listen-peer-urls "http://127.0.0.1:$((base+3*i+1))" \
      --listen-metrics-urls "http://127.0.0.1:$((base+3*i+2))" >"$dir/n$((i+1)).log" 2>&1 &
    pids+=($!)
  done
  echo "http://127.0.0.1:$base,http://127.0.0.1:$((base+3)),http://127.0.0.1:$((base+6))"
}

start_etcd() {
  local dir=$1 cluster="" i
  for i in 0 1 2; do cluster+="${cluster:+,}e$((i+1))=http://127.0.0.1:$((base+3*i+1))"; done
  for i in 0 1 2; do
    etcd --name "e$((i+1))" --data-dir "$dir/e$((i+1))" --initial-cluster "$cluster" --initial-cluster-state new \
      --listen-client-urls "http://127.0.0.1:$((base+3*i))" --advertise-client-urls "http://127.0.0.1:$((base+3*i))" \
      --listen-peer-urls "http://127.0.0.1:$((base+3*i+1))" --initial-advertise-peer-urls "http://127.0.0.1:$((base+3*i+1))" \
      >"$dir/e$((i+1)).log" 2>&1 &
    pids+=($!)
  done
  echo "http://127.0.0.1:$base,http://127.0.0.1:$((base+3)),http://127.0.0.1:$((base+6))"
}

healthy() { ETCDCTL_API=3 etcdctl --endpoints "$1" --command-timeout=2s endpoint health; }

declare -A worker_pid
start_worker() { # dir endpoints release i
  local dir=$1 endpoints=$2 release=$3 i=$4
  dotnet "$worker_dll" --url "http://127.0.0.1:$((base+20+i))" --instance "w$i" --endpoints "$endpoints" \
    --ttl-seconds "$ttl" --release-on-disconnect "$release" --interval-ms 100 >>"$dir/w$i.log" 2>&1 &
  worker_pid[$i]=$!
  pids+=($!)
}
is_master() { curl -s -m 1 "http://127.0.0.1:$((base+20+$1))/status" | grep -q '"isLeader":true'; }
answers() { curl -s -m 1 "http://127.0.0.1:$((base+20+$1))/status" | grep -q '"instance"'; }
wins() { grep -c "won leadership" "$1/w$2.log" 2>/dev/null || true; }
last_win_ms() { grep -o "at unix-ms [0-9]*" "$1/w$2.log" | tail -1 | awk '{print $3}'; }
find_master() { local i; for i in 1 2 3; do is_master "$i" && { echo "$i"; return 0; }; done; return 1; }
new_win() { # dir i before
  [ "$(wins "$1" "$2")" -gt "$3" ]
}
any_new_win() { # dir not before1 before2 before3
  local dir=$1 not=$2 i; shift 2
  for i in 1 2 3; do
    [ "$i" = "$not" ] && continue
    new_win "$dir" "$i" "${!i}" && { echo "$i"; return 0; }
  done
  return 1
}

measure() { # name kind release
  local name=$1 kind=$2 release=$3
  local dir="$out/$name" endpoints i run
  mkdir -p "$dir"
  if [ "$kind" = etcd ]; then endpoints=$(start_etcd "$dir"); else endpoints=$(start_bulwark "$dir"); fi
  wait_for healthy "$endpoints"
  for i in 1 2 3; do start_worker "$dir" "$endpoints" "$release" "$i"; done
  wait_for find_master
  : >"$dir/times"
  for run in $(seq 1 "$runs"); do
    local master; master=$(find_master)
    local b1 b2 b3; b1=$(wins "$dir" 1); b2=$(wins "$dir" 2); b3=$(wins "$dir" 3)
    for i in 1 2 3; do [ "$i" = "$master" ] || wait_for answers "$i"; done
    local killed; killed=$(now_ms)
    kill -9 "${worker_pid[$master]}"
    local winner=""
    local deadline=$(( killed + 120000 ))
    until winner=$(set -- "$b1" "$b2" "$b3"; any_new_win "$dir" "$master" "$@"); do
      [ "$(now_ms)" -lt "$deadline" ] || { echo "$name run $run: no takeover within 120 s" >&2; exit 1; }
      sleep 0.01
    done
    local took=$(( $(last_win_ms "$dir" "$winner") - killed ))
    echo "$took" >>"$dir/times"
    echo "$name run $run: w$master killed, w$winner won after $took ms" >&2
    start_worker "$dir" "$endpoints" "$release" "$master"
    wait_for answers "$master"
  done
  cleanup
  local sorted median worst
  sorted=$(sort -n "$dir/times")
  median=$(echo "$sorted" | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}')
  worst=$(echo "$sorted" | tail -1)
  echo "| $name | $ttl s | $runs | $median | $worst | $(echo "$sorted" | paste -sd' ') |" >>"$out/table.md"
}

echo "| configuration | TTL | runs | median ms | worst ms | all (ms, sorted) |" >"$out/table.md"
echo "|---|---|---|---|---|---|" >>"$out/table.md"
for config in bulwark-rod bulwark-ttl etcd; do
  [ -z "$only" ] || [ "$only" = "$config" ] || continue
  case "$config" in
    bulwark-rod) measure "$config" bulwark true ;;
    bulwark-ttl) measure "$config" bulwark false ;;
    etcd) measure "$config" etcd false ;;
  esac
done
cat "$out/table.md"
echo "logs: $out" >&2
