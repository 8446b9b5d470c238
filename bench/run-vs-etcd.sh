#!/usr/bin/env bash
# Bulwark vs etcd on this machine, one run, both systems: 3-node clusters on loopback, one after the other.
#   bench/run-vs-etcd.sh            full run (throughput/latency/CPU, failover, physical floor; ~10 min)
#   bench/run-vs-etcd.sh --quick    short check that everything works (~3 min)
#   bench/run-vs-etcd.sh --memory   adds the 1M-key memory benchmark (slow)
# Other flags: see `bench/run-vs-etcd.sh --help`. Results: /tmp/bulwark-bench/<time>/report.md and results.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v etcd >/dev/null 2>&1; then
  echo "etcd not found; installing the Debian packages etcd-server and etcd-client" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q && $SUDO apt-get install -y -q etcd-server etcd-client
fi

dotnet build src/Bulwark.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/Bulwark.Bench.Compare -c Release -v q -nologo >/dev/null
exec dotnet bench/Bulwark.Bench.Compare/bin/Release/net10.0/bulwark-compare.dll \
  --bulwark-dll src/Bulwark.Cli/bin/Release/net10.0/bulwark.dll --etcd "$(command -v etcd)" "$@"
