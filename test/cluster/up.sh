#!/usr/bin/env bash
# Bring up, or repair, the local four-node SLURM test cluster and install /opt/sml-local.
# Idempotent: a healthy cluster is left alone (running jobs survive); anything missing, stale or
# dead (daemons, network namespaces, munge socket, /etc/hosts block) is rebuilt.
# Concurrent calls serialise on an exclusive flock. Needs root.
set -euo pipefail

# The daemons started below must not inherit a caller's descriptors: one open on a lock file (a
# test runner's flock) would keep that lock held for as long as the daemon lives. 255 is bash's own.
for fd_path in "/proc/$$/fd/"*; do
  fd=${fd_path##*/}
  if ((fd > 2 && fd < 255)); then eval "exec $fd>&-"; fi
done 2>/dev/null

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$HERE/env.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"

STATE=$SML_CLUSTER_STATE
ETC=$STATE/etc
RUN=$STATE/run
LOG=$STATE/log
LOCK_FILE=/run/lock/sml-cluster.lock
BRIDGE=smlbr0
NODES=(n1 n2 n3 n4)
DB_PORT=3307
DB_SOCKET=$RUN/mysqld.sock
STARTED=$SECONDS

say() { printf '[sml-cluster] %s\n' "$*" >&2; }
die() {
  say "ERROR: $*"
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "up.sh must run as root (it creates network namespaces and starts daemons)"

mkdir -p "$(dirname "$LOCK_FILE")"
exec 9>"$LOCK_FILE"
if ! flock -w 600 9; then
  die "another up.sh/down.sh held $LOCK_FILE for 10 minutes; is one stuck?"
fi

# Run a daemon detached from this script: own session, no inherited lock fd, no terminal.
spawn() { setsid "$@" </dev/null >/dev/null 2>&1 9>&- & }

wait_until() {
  local tries=$1 delay=$2
  shift 2
  local i
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep "$delay"
  done
  return 1
}

# ---------------------------------------------------------------- packages
ensure_packages() {
  local missing=() pair cmd pkg
  for pair in slurmctld:slurmctld slurmd:slurmd sinfo:slurm-client munged:munge slurmdbd:slurmdbd \
    mariadbd:mariadb-server shellcheck:shellcheck sshd:openssh-server ssh:openssh-client ip:iproute2 \
    ps:procps curl:curl python3:python3; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    if ! PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$cmd" >/dev/null 2>&1; then missing+=("$pkg"); fi
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$LOG/apt.log" 2>&1; then
    apt-get update >>"$LOG/apt.log" 2>&1 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG/apt.log" 2>&1 ||
      die "apt-get install failed; see $LOG/apt.log"
  fi
}

# ---------------------------------------------------------------- network
node_index() { echo "${1#n}"; }
node_ip() { echo "10.77.0.1$(node_index "$1")"; }

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  if ! ip -4 addr show dev "$BRIDGE" | grep -q "inet $SML_CLUSTER_BRIDGE_IP/24"; then
    ip addr add "$SML_CLUSTER_BRIDGE_IP/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  # Bridged node-to-node traffic must not go through the host's iptables.
  if [[ -w /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
    echo 0 >/proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || true
  fi
}

netns_ok() {
  local node=$1 ns=sl$1
  [[ -e /var/run/netns/$ns ]] || return 1
  nsenter --net="/var/run/netns/$ns" ip -4 addr show dev eth0 2>/dev/null | grep -q "inet $(node_ip "$node")/24" || return 1
  nsenter --net="/var/run/netns/$ns" ip link show lo 2>/dev/null | grep -q 'UP' || return 1
  ip link show "smlv${node#n}" 2>/dev/null | grep -q "master $BRIDGE" || return 1
  ip link show "smlv${node#n}" 2>/dev/null | grep -q 'state UP\|LOWER_UP' || return 1
}

build_netns() {
  local node=$1 ns=sl$1 veth=smlv${1#n}
  ip netns del "$ns" 2>/dev/null || true
  rm -f "/var/run/netns/$ns"
  ip link del "$veth" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$veth" type veth peer name "${veth}p"
  ip link set "${veth}p" netns "$ns"
  ip link set "$veth" master "$BRIDGE"
  ip link set "$veth" up
  nsenter --net="/var/run/netns/$ns" sh -c "
    ip link set ${veth}p name eth0 &&
    ip addr add $(node_ip "$node")/24 dev eth0 &&
    ip link set eth0 up &&
    ip link set lo up &&
    ip route add default via $SML_CLUSTER_BRIDGE_IP"
}

ensure_hosts() {
  local block node tmp
  block="# sml-cluster begin (managed by test/cluster/up.sh)"$'\n'
  block+="$SML_CLUSTER_BRIDGE_IP sml-ctl"$'\n'
  for node in "${NODES[@]}"; do block+="$(node_ip "$node") $node"$'\n'; done
  block+="# sml-cluster end"
  tmp=$(mktemp)
  awk '/^# sml-cluster begin/{skip=1} !skip{print} /^# sml-cluster end/{skip=0}' /etc/hosts >"$tmp"
  printf '%s\n' "$block" >>"$tmp"
  # Write in place (no rename): /etc/hosts is often a bind mount in containers.
  if ! cmp -s "$tmp" /etc/hosts; then cat "$tmp" >/etc/hosts; fi
  rm -f "$tmp"
}

# ---------------------------------------------------------------- munge
ensure_munge() {
  if [[ ! -s /etc/munge/munge.key ]]; then
    /usr/sbin/mungekey -c -f -k /etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 755 /run/munge
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  stop_pidfile /run/munge/munged.pid munged
  # --force: take over a socket left behind by a crashed munged.
  (cd / && runuser -u munge -- /usr/sbin/munged --force 9>&-) || die "munged failed to start"
  wait_until 50 0.1 sh -c 'munge -n | unmunge' || die "munge does not answer (munge -n | unmunge)"
}

# ---------------------------------------------------------------- configuration
# Writes FILE from stdin only when the content changed; returns 0 when it changed.
write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  mv "$tmp" "$file"
  chmod 644 "$file"
  return 0
}

render_slurm_conf() {
  local accounting=$1 node
  cat <<EOF
# Generated by test/cluster/up.sh; edits are overwritten.
ClusterName=$SML_CLUSTER_NAME
SlurmctldHost=$(hostname -s)($SML_CLUSTER_BRIDGE_IP)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Four GPUs per node (stand-in device files, see ensure_gpu_devices): jobs that share a node ask
# for GPUs (--gpus-per-node) like on a real GPU cluster; whole-node jobs (--exclusive) get the node.
GresTypes=gpu
# The nodes share this machine's cores: trust the configured CPU/memory, not the hardware.
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
SlurmctldPort=6817
SlurmdPort=6818
# Finished jobs stay visible to scontrol for an hour; steps die within seconds of scancel.
MinJobAge=3600
KillWait=2
OverTimeLimit=0
InactiveLimit=0
MessageTimeout=10
SlurmdTimeout=120
UnkillableStepTimeout=30
EnforcePartLimits=ALL
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,sched_min_interval=0,bf_interval=1,bf_continue,default_queue_depth=200
JobCompType=jobcomp/none
EOF
  if [[ $accounting == slurmdbd ]]; then
    cat <<EOF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$SML_CLUSTER_BRIDGE_IP
AccountingStoragePort=6819
# sacct keeps each job's --comment: sml-mcp finds its ended jobs by their tag.
AccountingStoreFlags=job_comment
EOF
  else
    echo "AccountingStorageType=accounting_storage/none"
  fi
  for node in "${NODES[@]}"; do
    echo "NodeName=$node NodeAddr=$(node_ip "$node") NodeHostname=$node CPUs=8 RealMemory=4000 Gres=gpu:4 State=UNKNOWN"
  done
  cat <<EOF
PartitionName=normal Nodes=n[1-4] Default=YES MaxTime=1-00:00:00 State=UP
PartitionName=debug Nodes=n[1-4] Default=NO MaxTime=00:30:00 State=UP
EOF
}

# SLURM 22.05 drops GPUs without device files, so each node gets four stand-in device files (the
# null device's numbers, shared by the nodes like every path here): SLURM then hands out GPU
# indices and sets CUDA_VISIBLE_DEVICES as on a real GPU node. No cgroup confinement (task/none).
ensure_gpu_devices() {
  local i
  mkdir -p "$STATE/dev"
  for i in 0 1 2 3; do
    [[ -c $STATE/dev/nvidia$i ]] || { rm -f "$STATE/dev/nvidia$i" && mknod "$STATE/dev/nvidia$i" c 1 3; }
  done
}

render_gres_conf() {
  cat <<EOF
# Generated by test/cluster/up.sh; edits are overwritten.
NodeName=n[1-4] Name=gpu File=$STATE/dev/nvidia[0-3]
EOF
}

render_slurmdbd_conf() {
  cat <<EOF
# Generated by test/cluster/up.sh; edits are overwritten.
AuthType=auth/munge
DbdHost=$(hostname -s)
DbdAddr=$SML_CLUSTER_BRIDGE_IP
DbdPort=6819
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$(<"$ETC/db-password")
StorageLoc=slurm_acct_db
EOF
}

# ---------------------------------------------------------------- accounting (MariaDB + slurmdbd)
mysql_root() { mariadb --protocol=socket -S "$DB_SOCKET" -u root "$@"; }

ensure_mariadb() {
  local datadir=$STATE/mysql
  if [[ ! -d $datadir/mysql ]]; then
    rm -rf "$datadir"
    mkdir -p "$datadir"
    chown mysql:mysql "$datadir"
    mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=socket \
      --skip-test-db >"$LOG/mariadb-install.log" 2>&1 || return 1
  fi
  chown mysql:mysql "$RUN" "$datadir"
  if pid_alive "$RUN/mysqld.pid" mariadbd && mysql_root -e 'SELECT 1' >/dev/null 2>&1; then return 0; fi
  stop_pidfile "$RUN/mysqld.pid" mariadbd
  rm -f "$DB_SOCKET"
  spawn /usr/sbin/mariadbd --user=mysql --datadir="$datadir" --socket="$DB_SOCKET" \
    --pid-file="$RUN/mysqld.pid" --port="$DB_PORT" --bind-address=127.0.0.1 \
    --log-error="$LOG/mariadb.log" --innodb-buffer-pool-size=64M --skip-name-resolve
  wait_until 300 0.2 mysql_root -e 'SELECT 1' || return 1
  if [[ ! -s $ETC/db-password ]]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$ETC/db-password")
  fi
  local pass
  pass=$(<"$ETC/db-password")
  mysql_root <<SQL || return 1
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$pass';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
SQL
}

ensure_slurmdbd() {
  (umask 077 && render_slurmdbd_conf >"$ETC/slurmdbd.conf.new")
  if ! cmp -s "$ETC/slurmdbd.conf.new" "$ETC/slurmdbd.conf" 2>/dev/null; then
    mv "$ETC/slurmdbd.conf.new" "$ETC/slurmdbd.conf"
    stop_pidfile "$RUN/slurmdbd.pid" slurmdbd
  else
    rm -f "$ETC/slurmdbd.conf.new"
  fi
  chmod 600 "$ETC/slurmdbd.conf"
  if pid_alive "$RUN/slurmdbd.pid" slurmdbd && sacctmgr -n list cluster >/dev/null 2>&1; then return 0; fi
  stop_pidfile "$RUN/slurmdbd.pid" slurmdbd
  (cd / && slurmdbd 9>&- </dev/null >/dev/null 2>&1) || return 1
  wait_until 100 0.2 sacctmgr -n list cluster || return 1
}

ensure_associations() {
  if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$SML_CLUSTER_NAME"; then
    sacctmgr -i add cluster "$SML_CLUSTER_NAME" >/dev/null
  fi
  if ! sacctmgr -n -P list account format=account | grep -qx "$SML_CLUSTER_ACCOUNT"; then
    sacctmgr -i add account "$SML_CLUSTER_ACCOUNT" Cluster="$SML_CLUSTER_NAME" \
      Description="sml-mcp tests" Organization=sml >/dev/null
  fi
  if ! sacctmgr -n -P list user root format=defaultaccount | grep -qx "$SML_CLUSTER_ACCOUNT"; then
    sacctmgr -i add user root Account="$SML_CLUSTER_ACCOUNT" DefaultAccount="$SML_CLUSTER_ACCOUNT" \
      Cluster="$SML_CLUSTER_NAME" >/dev/null 2>&1 || true
    sacctmgr -i modify user root set DefaultAccount="$SML_CLUSTER_ACCOUNT" >/dev/null 2>&1 || true
  fi
}

setup_accounting() {
  ensure_mariadb || return 1
  ensure_slurmdbd || return 1
  ensure_associations || return 1
}

# ---------------------------------------------------------------- slurmctld / slurmd
ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }

ensure_slurmctld() {
  local restart=$1
  if [[ $restart != yes ]] && pid_alive "$RUN/slurmctld.pid" slurmctld && ctld_up; then return 0; fi
  stop_pidfile "$RUN/slurmctld.pid" slurmctld
  (cd / && slurmctld -f "$SLURM_CONF" 9>&- </dev/null >/dev/null 2>&1) || true
  # A loaded machine can take a while to answer: wait as long as the daemon lives.
  local i
  for ((i = 0; i < 450; i++)); do
    if ctld_up; then return 0; fi
    if ((i > 15)) && ! pid_alive "$RUN/slurmctld.pid" slurmctld; then break; fi
    sleep 0.2
  done
  say "slurmctld did not come up with its saved state; starting clean (see $LOG/slurmctld.log)"
  stop_pidfile "$RUN/slurmctld.pid" slurmctld
  (cd / && slurmctld -c -f "$SLURM_CONF" 9>&- </dev/null >/dev/null 2>&1) || true
  wait_until 100 0.2 ctld_up || die "slurmctld does not answer; see $LOG/slurmctld.log"
}

# True when the slurmd of NODE runs inside that node's current network namespace.
slurmd_ok() {
  local node=$1 pid
  pid_alive "$RUN/slurmd-$node.pid" slurmd || return 1
  pid=$(<"$RUN/slurmd-$node.pid")
  [[ $(readlink "/proc/$pid/ns/net") == "net:[$(stat -L -c %i "/var/run/netns/sl$node")]" ]]
}

start_slurmd() {
  local node=$1
  stop_pidfile "$RUN/slurmd-$node.pid" slurmd
  mkdir -p "$STATE/spool/$node"
  (cd / && nsenter --net="/var/run/netns/sl$node" unshare --uts \
    sh -c "hostname $node && exec slurmd -N $node -f '$SLURM_CONF'" 9>&- </dev/null >/dev/null 2>&1) ||
    die "slurmd $node failed to start; see $LOG/slurmd-$node.log"
}

nodes_ready() {
  local states
  states=$(sinfo -h -N -p normal -o '%N %t' 2>/dev/null | sort -u) || return 1
  [[ $(wc -l <<<"$states") -eq ${#NODES[@]} ]] || return 1
  ! grep -Eq ' (down|drain|drng|unk|fail|futr|boot|maint\*|npc|resv\*)|\*' <<<"$states"
}

resume_nodes() {
  local node state
  while read -r node state; do
    case $state in
    down* | drain* | drng* | fail*) scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
    esac
  done < <(sinfo -h -N -p normal -o '%N %t' 2>/dev/null | sort -u)
}

ensure_reservation() {
  local start now
  now=$(date +%s)
  start=$(scontrol -o show reservation sml-maint 2>/dev/null | grep -o 'StartTime=[^ ]*' | cut -d= -f2) || true
  if [[ -n $start ]] && (($(date -d "$start" +%s) - now > 2 * 86400)); then return 0; fi
  [[ -n $start ]] && scontrol delete ReservationName=sml-maint >/dev/null 2>&1
  scontrol create reservation ReservationName=sml-maint \
    StartTime="$(date -d '+7 days' +%Y-%m-%dT00:00:00)" Duration=04:00:00 Nodes=n4 Users=root \
    Flags=MAINT >/dev/null
}

# ---------------------------------------------------------------- /opt/sml-local
pick_python() {
  local candidate
  for candidate in /usr/bin/python3 "$(PATH=/usr/local/bin:/usr/bin:/bin command -v python3 || true)" \
    /root/.pyenv/versions/3.1[0-9]*/bin/python3; do
    [[ -n $candidate && -x $candidate ]] || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_local_root() {
  "$HERE/install-local.sh" "$PYTHON"
}

# ---------------------------------------------------------------- main
mkdir -p "$ETC" "$RUN" "$LOG" "$STATE/state" "$STATE/spool"
ensure_packages
PYTHON=$(pick_python) || die "no Python >= 3.9 found (tried /usr/bin/python3, PATH, pyenv)"

ensure_bridge
netns_changed=()
for node in "${NODES[@]}"; do
  if ! netns_ok "$node"; then
    say "building network namespace sl$node ($(node_ip "$node"))"
    stop_pidfile "$RUN/slurmd-$node.pid" slurmd
    build_netns "$node"
    netns_changed+=("$node")
  fi
done
ensure_hosts
ensure_munge

ACCOUNTING=slurmdbd
# The clients (sacctmgr) need a slurm.conf that names the accounting host before slurmctld runs.
conf_changed=no
ensure_gpu_devices
if render_gres_conf | write_if_changed "$ETC/gres.conf"; then conf_changed=yes; fi
if render_slurm_conf slurmdbd | write_if_changed "$SLURM_CONF"; then conf_changed=yes; fi
if ! setup_accounting; then
  say "WARNING: accounting (MariaDB + slurmdbd) could not start; sacct will not answer."
  say "         finished jobs stay visible to 'scontrol show job' for MinJobAge=3600 s."
  say "         see $LOG/slurmdbd.log and $LOG/mariadb.log"
  ACCOUNTING=none
  if render_slurm_conf none | write_if_changed "$SLURM_CONF"; then conf_changed=yes; fi
fi

# After a whole-cluster crash (controller and every slurmd dead, e.g. the machine's processes were
# ended) the saved queue belongs to a session that is gone: cancel it so it cannot hold the nodes.
cluster_was_dead=no
if ! pid_alive "$RUN/slurmctld.pid" slurmctld; then
  cluster_was_dead=yes
  for node in "${NODES[@]}"; do
    if pid_alive "$RUN/slurmd-$node.pid" slurmd; then cluster_was_dead=no; fi
  done
fi
ensure_slurmctld "$conf_changed"
for node in "${NODES[@]}"; do
  if [[ $conf_changed == yes ]] || ! slurmd_ok "$node"; then start_slurmd "$node"; fi
done

if ! wait_until 60 0.5 nodes_ready; then
  resume_nodes
  wait_until 60 0.5 nodes_ready || {
    sinfo -N >&2 || true
    die "nodes did not become ready; see $LOG/slurmd-n*.log"
  }
fi
if [[ $cluster_was_dead == yes ]]; then
  mapfile -t leftover < <(squeue -h -o %i 2>/dev/null)
  if [[ ${#leftover[@]} -gt 0 ]]; then
    say "cancelling ${#leftover[@]} job(s) left from before the cluster went down"
    scancel "${leftover[@]}" 2>/dev/null || true
  fi
fi
ensure_reservation
install_local_root

say "up in $((SECONDS - STARTED)) s: controller $(hostname -s) ($SML_CLUSTER_BRIDGE_IP), accounting=$ACCOUNTING"
for node in "${NODES[@]}"; do say "  $node $(node_ip "$node")  netns sl$node"; done
say "  partitions: normal (default, 1-00:00:00), debug (00:30:00); reservation sml-maint (n4, in 7 days)"
say "  SLURM_CONF=$SLURM_CONF  (source test/cluster/env.sh)"
say "  software: $SML_LOCAL_ROOT (env/local.toml, engines/, models/, opentelabin/)  python3=$PYTHON"
sinfo >&2
