# shellcheck shell=bash
# Source this to talk to the local test cluster brought up by test/cluster/up.sh:
#   source test/cluster/env.sh && sinfo
# Everything here is a fixed path: the cluster's configuration lives outside /etc/slurm.
export SML_CLUSTER_STATE=/var/lib/sml-cluster
export SML_LOCAL_ROOT=/opt/sml-local
export SLURM_CONF="$SML_CLUSTER_STATE/etc/slurm.conf"
export SML_CLUSTER_NAME=sml
export SML_CLUSTER_NODES='n1 n2 n3 n4'
export SML_CLUSTER_BRIDGE_IP=10.77.0.1
export SML_CLUSTER_ACCOUNT=sml-test
# Standard ISO times (YYYY-MM-DDTHH:MM:SS) from squeue/sacct/scontrol.
export SLURM_TIME_FORMAT=standard
