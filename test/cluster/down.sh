#!/usr/bin/env bash
# Stop the local test cluster started by up.sh: cancel jobs, stop the daemons it started (by the
# pids they recorded), remove the node namespaces, the bridge and the /etc/hosts block.
# State (accounting database, slurmctld state) stays under /var/lib/sml-cluster; pass --purge to
# delete it too. Serialised with up.sh by the same flock.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HERE/env.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
RUN=$SML_CLUSTER_STATE/run
LOCK_FILE=/run/lock/sml-cluster.lock
PURGE=no
[[ ${1:-} == --purge ]] && PURGE=yes

[[ $(id -u) -eq 0 ]] || {
  echo "down.sh must run as root" >&2
  exit 1
}
mkdir -p "$(dirname "$LOCK_FILE")"
exec 9>"$LOCK_FILE"
flock -w 600 9

if [[ -f $SLURM_CONF ]] && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  scancel --full --quiet --user=root 2>/dev/null || true
  sleep 2
fi

for node in $SML_CLUSTER_NODES; do
  stop_pidfile "$RUN/slurmd-$node.pid" slurmd
  ns=/var/run/netns/sl$node
  if [[ -e $ns ]]; then
    # Whatever still runs inside the node (job steps, engines) was started by this cluster.
    inode=$(stat -L -c %i "$ns" 2>/dev/null || true)
    for proc in /proc/[0-9]*; do
      if [[ -n $inode && $(readlink "$proc/ns/net" 2>/dev/null) == "net:[$inode]" ]]; then
        kill -9 "${proc#/proc/}" 2>/dev/null || true
      fi
    done
    ip netns del "sl$node" 2>/dev/null || rm -f "$ns"
  fi
  ip link del "smlv${node#n}" 2>/dev/null || true
done
stop_pidfile "$RUN/slurmctld.pid" slurmctld
stop_pidfile "$RUN/slurmdbd.pid" slurmdbd
stop_pidfile "$RUN/mysqld.pid" mariadbd
ip link del smlbr0 2>/dev/null || true

if grep -q '^# sml-cluster begin' /etc/hosts; then
  tmp=$(mktemp)
  awk '/^# sml-cluster begin/{skip=1} !skip{print} /^# sml-cluster end/{skip=0}' /etc/hosts >"$tmp"
  cat "$tmp" >/etc/hosts
  rm -f "$tmp"
fi

if [[ $PURGE == yes ]]; then
  rm -rf "${SML_CLUSTER_STATE:?}"
fi
echo "[sml-cluster] down (state $([[ $PURGE == yes ]] && echo purged || echo "kept in $SML_CLUSTER_STATE"))" >&2
