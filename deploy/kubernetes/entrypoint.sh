#!/bin/sh
# Starts the Bulwark member of this StatefulSet pod (deploy/kubernetes; docs/operations.md, "Kubernetes").
#
# Pods bulwark-0 .. bulwark-(CLUSTER_FOUNDING_MEMBERS-1) found the cluster together (--initial-cluster-state new).
# A pod beyond them joins a running cluster: it asks the cluster to add it as a learner (`etcdctl member add
# --learner`), starts with the membership that printed and --initial-cluster-state existing, catches up by snapshot
# then log, and promotes itself to voter once the leader accepts (promotion is refused until the learner caught up).
# A restart with data in the volume starts the member again with what it started with the first time.
# A member that preStop removed on scale-down left a marker: its data is useless (the cluster forgot it), so it is
# wiped and the pod joins afresh if the StatefulSet grows again.
set -eu

: "${POD_NAME:?POD_NAME must be set (downward API metadata.name)}"
: "${POD_NAMESPACE:?POD_NAMESPACE must be set (downward API metadata.namespace)}"
: "${BULWARK_DATA_DIR:?BULWARK_DATA_DIR must be set}"
founding=${CLUSTER_FOUNDING_MEMBERS:-3}
peer_service=${CLUSTER_PEER_SERVICE:-bulwark-peer}
client_service=${CLUSTER_CLIENT_SERVICE:-bulwark-client}
domain=${CLUSTER_DOMAIN:-cluster.local}
peer_port=${CLUSTER_PEER_PORT:-2380}
client_port=${CLUSTER_CLIENT_PORT:-2379}
bulwark=${BULWARK_BIN:-bulwark}
etcdctl=${ETCDCTL_BIN:-etcdctl}

ordinal=${POD_NAME##*-}
set_name=${POD_NAME%-*}
host_of() { echo "$1.$peer_service.$POD_NAMESPACE.svc.$domain"; }
peer_url="http://$(host_of "$POD_NAME"):$peer_port"
client_url="http://$(host_of "$POD_NAME"):$client_port"
cluster_endpoint=${CLUSTER_ENDPOINT:-http://$client_service.$POD_NAMESPACE.svc.$domain:$client_port}
volume=$(dirname "$BULWARK_DATA_DIR")
joined="$volume/joined.env"   # what `member add` printed, kept for restarts
removed="$volume/removed"     # written by prestop.sh once the cluster removed this member

log() { echo "entrypoint: $*" >&2; }

if [ -e "$removed" ]; then
  log "this member was removed on scale-down: wiping its data to join afresh"
  rm -rf "$BULWARK_DATA_DIR" "$joined" "$removed"
fi

if [ "$ordinal" -lt "$founding" ]; then
  state=new
  cluster=""
  i=0
  while [ "$i" -lt "$founding" ]; do
    cluster="$cluster${cluster:+,}$set_name-$i=http://$(host_of "$set_name-$i"):$peer_port"
    i=$((i + 1))
  done
elif [ -s "$joined" ]; then
  # Joined before (the data dir holds its log); start as the first time.
  . "$joined"
  state=existing
  cluster=$JOINED_INITIAL_CLUSTER
else
  # A registration left by an earlier attempt that died before its first start is dropped, then added again.
  members=$("$etcdctl" --endpoints="$cluster_endpoint" member list)
  stale=$(echo "$members" | awk -F', ' -v url="$peer_url" '$4 == url { print $1 }')
  if [ -n "$stale" ]; then
    log "removing the stale registration $stale of $peer_url"
    "$etcdctl" --endpoints="$cluster_endpoint" member remove "$stale"
  fi
  rm -rf "$BULWARK_DATA_DIR"
  log "adding $POD_NAME ($peer_url) as a learner"
  added=$("$etcdctl" --endpoints="$cluster_endpoint" member add "$POD_NAME" --learner --peer-urls="$peer_url")
  echo "$added" >&2
  cluster=$(echo "$added" | sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p')
  [ -n "$cluster" ] || { log "member add printed no ETCD_INITIAL_CLUSTER"; exit 1; }
  mkdir -p "$volume"
  echo "JOINED_INITIAL_CLUSTER='$cluster'" > "$joined.tmp" && mv "$joined.tmp" "$joined"
  state=existing
fi

if [ "$state" = existing ]; then
  # Promote this learner once it has caught up (the leader refuses before); nothing to do once it is a voter.
  (
    while sleep "${PROMOTE_INTERVAL_SECONDS:-5}"; do
      list=$("$etcdctl" --endpoints="$cluster_endpoint" member list 2>/dev/null) || continue
      line=$(echo "$list" | awk -F', ' -v url="$peer_url" '$4 == url')
      case "$line" in
        "") log "$POD_NAME is no longer a member: nothing to promote"; exit 0 ;;
        *", false") exit 0 ;;
        *", true") "$etcdctl" --endpoints="$cluster_endpoint" member promote "${line%%,*}" >/dev/null 2>&1 && exit 0 ;;
      esac
    done
  ) &
fi

log "starting $POD_NAME: --initial-cluster-state $state --initial-cluster $cluster"
exec "$bulwark" serve \
  --name "$POD_NAME" \
  --initial-cluster "$cluster" \
  --initial-cluster-state "$state" \
  --advertise-client-urls "$client_url"
