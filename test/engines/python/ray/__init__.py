"""Stand-in for the `ray` Python package: enough for job scripts that poll the cluster's GPUs
(`ray.init(); ray.available_resources()["GPU"]`). The cluster is the one formed by the stand-in
`ray start` (sml_standin.ray_standin)."""

import os
import sys

from sml_standin import ray_standin as _cluster

__version__ = '0.0.0+sml.standin'

_address = None
_initialized = False


class RaySystemError(Exception):
    pass


class _Context(dict):
    @property
    def address_info(self):
        return dict(self)


def init(address=None, *args, ignore_reinit_error=False, **kwargs):
    """Connect to the running stand-in cluster (ADDRESS, RAY_ADDRESS, or the head on this node).

    With address="auto" and no cluster this raises ConnectionError like Ray; with no address it
    starts a local single-node "instance" that has this node's CPUs and no GPU.
    """
    global _address, _initialized
    found = _cluster.find_cluster(address)
    if found is None and (address == 'auto' or (address and address != 'local')):
        raise ConnectionError(
            'Could not find any running Ray instance. Please specify the one to connect to by setting '
            '`--address` flag or `RAY_ADDRESS` environment variable.'
        )
    _address = found
    _initialized = True
    if found is not None:
        print('Connecting to existing Ray cluster at address: %s...' % found, file=sys.stderr)
    else:
        print('Started a local Ray instance.', file=sys.stderr)
    return _Context(address=found or 'local', node_ip_address=_cluster.host_address())


def is_initialized():
    return _initialized


def shutdown():
    global _address, _initialized
    _address = None
    _initialized = False


def _require_init():
    if not _initialized:
        raise RaySystemError("System error: Ray has not been started yet. You can start Ray with 'ray.init()'.")


def _local_resources():
    host = _cluster.host_address()
    return {'CPU': float(os.cpu_count() or 1), 'memory': 64.0 * 2**30, 'node:%s' % host: 1.0}


def cluster_resources():
    _require_init()
    if _address is None:
        return _local_resources()
    return _cluster.cluster_resources(_address)


def available_resources():
    _require_init()
    if _address is None:
        return _local_resources()
    return _cluster.cluster_resources(_address)


def nodes():
    _require_init()
    if _address is None:
        return [{'NodeManagerAddress': _cluster.host_address(), 'Alive': True, 'Resources': _local_resources()}]
    return [
        {'NodeID': n['node_id'], 'NodeManagerAddress': n['ip'], 'NodeManagerHostname': n['host'], 'Alive': True,
         'Resources': {'CPU': float(n.get('cpus', 0)), 'GPU': float(n.get('gpus', 0))}}
        for n in _cluster.fetch(_address, '/nodes')
    ]
