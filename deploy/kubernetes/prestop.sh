#!/bin/sh
# preStop of a Bulwark pod (deploy/kubernetes; docs/operations.md, "Kubernetes").
# On a scale-down only, the member removes itself from the cluster before the pod goes (the leader hands over
# leadership first if it is the one removed). A pod stopped for any other reason (rolling update, node drain, eviction)
# keeps its membership and its data: it comes back as the same member. A founding member is never removed here.
set -u

: "${POD_NAME:?}" "${POD_NAMESPACE:?}" "${BULWARK_DATA_DIR:?}"
founding=${CLUSTER_FOUNDING_MEMBERS:-3}
client_service=${CLUSTER_CLIENT_SERVICE:-bulwark-client}
domain=${CLUSTER_DOMAIN:-cluster.local}
client_port=${CLUSTER_CLIENT_PORT:-2379}
etcdctl=${ETCDCTL_BIN:-etcdctl}
curl=${CURL_BIN:-curl}
api=${KUBERNETES_API:-https://kubernetes.default.svc}
account=${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}

ordinal=${POD_NAME##*-}
set_name=${POD_NAME%-*}
peer_service=${CLUSTER_PEER_SERVICE:-bulwark-peer}
peer_port=${CLUSTER_PEER_PORT:-2380}
peer_url="http://$POD_NAME.$peer_service.$POD_NAMESPACE.svc.$domain:$peer_port"
cluster_endpoint=${CLUSTER_ENDPOINT:-http://$client_service.$POD_NAMESPACE.svc.$domain:$client_port}
log() { echo "prestop: $*" >&2; }

[ "$ordinal" -ge "$founding" ] || exit 0

# The StatefulSet's desired size, from its scale subresource (the Role allows get on statefulsets/scale).
scale=$("$curl" -sf --max-time 5 --cacert "$account/ca.crt" -H "Authorization: Bearer $(cat "$account/token")" \
  "$api/apis/apps/v1/namespaces/$POD_NAMESPACE/statefulsets/$set_name/scale")
replicas=$(echo "$scale" | sed -n 's/.*"spec":{"replicas":\([0-9]*\)}.*/\1/p')
if [ -z "$replicas" ] || [ "$ordinal" -lt "$replicas" ]; then
  # Not a scale-down (or the size is unknown): keep the membership.
  exit 0
fi

# One membership change at a time: pods leaving together retry until their turn (bounded by the grace period).
deadline=$(( $(date +%s) + ${REMOVE_TIMEOUT_SECONDS:-45} ))
while :; do
  # Only a list the cluster answered may say this member is gone; an unreachable cluster proves nothing.
  if list=$("$etcdctl" --endpoints="$cluster_endpoint" member list); then
    # By name once it started, by peer URL before (a learner that never started has no name yet).
    id=$(echo "$list" | awk -F', ' -v name="$POD_NAME" -v url="$peer_url" '$3 == name || $4 == url { print $1 }')
  else
    id=unknown
  fi

  if [ -z "$id" ]; then
    log "$POD_NAME is not a member (any more)"
    touch "$(dirname "$BULWARK_DATA_DIR")/removed"
    exit 0
  fi

  if [ "$id" != unknown ] && "$etcdctl" --endpoints="$cluster_endpoint" member remove "$id"; then
    log "removed $POD_NAME ($id) on scale-down to $replicas"
    touch "$(dirname "$BULWARK_DATA_DIR")/removed"
    exit 0
  fi

  [ "$(date +%s)" -lt "$deadline" ] || { log "could not remove $POD_NAME before the deadline"; exit 1; }
  sleep 2
done
