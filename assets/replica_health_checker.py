#!/usr/bin/env python3
"""In-job replica health checker of sml-mcp (stdlib only, Python 3.6 compatible).

Runs on the batch node of a serving job. Every interval it probes each replica head's engine at
http://<ip>:<port>/health (packed replicas each on their own port), writes an atomic report to
SML_HEALTH_REPORT_PATH and, in a chain, cancels the predecessor job once every replica is healthy.

Environment (set by master.sh):
  SML_HEALTH_REPORT_PATH        where replica_health.json goes (written via a .tmp + rename)
  SML_HEALTH_REPLICA_IPS        comma-separated head IP of each replica
  SML_HEALTH_REPLICA_HOSTS      comma-separated head host name of each replica
  SML_HEALTH_REPLICA_PORTS      comma-separated engine port of each replica (default: FRAMEWORK_PORT)
  SML_HEALTH_FRAMEWORK_PORT     engine port when REPLICA_PORTS is not given (8080)
  SML_HEALTH_NODES_PER_REPLICA  nodes per replica (node_rank of replica r is r * this)
  SML_HEALTH_INTERVAL           seconds between checks once all replicas were healthy (30)
  SML_HEALTH_STARTUP_INTERVAL   seconds between checks until then (5)
  SML_HEALTH_TIMEOUT            HTTP timeout in seconds (10)
  SML_HEALTH_OPENTELA_PORT      OpenTela API port on each node, 0 = OpenTela disabled (8092)
  SML_HEALTH_PREVIOUS_JOB_ID    predecessor in a chain, cancelled once all replicas are healthy
  SML_HEALTH_ROUTER_URL         the router in front of the replicas (http://ip:port), if any: it
                                must answer /health too before the job counts as healthy
  SML_HEALTH_MAX_CYCLES         stop after this many checks (tests); 0 = run until killed
"""

import json
import os
import subprocess
import sys
import time

try:  # Python 3
    import urllib.error as urllib_error
    import urllib.request as urllib_request
except ImportError:  # pragma: no cover
    raise SystemExit("replica health checker needs Python 3")

HEALTHY = "HEALTHY"
NOT_RESPONDING = "NOT_RESPONDING"
ERROR = "ERROR"
NOT_DEPLOYED = "NOT_DEPLOYED"
MAX_PEER_ID_ATTEMPTS = 5

# Probes go straight to the nodes: a proxy configured on the batch node must never see them.
for _name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_name, None)
_OPENER = urllib_request.build_opener(urllib_request.ProxyHandler({}))


def log(message):
    sys.stdout.write("%s replica health checker: %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), message))
    sys.stdout.flush()


def split_list(value):
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def int_env(name, default):
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def probe(ip, port, timeout):
    """GET /health of an engine: 2xx is HEALTHY, another HTTP status NOT_RESPONDING, no answer ERROR."""
    return probe_url("http://%s:%d/health" % (ip, port), timeout)


def probe_url(url, timeout):
    try:
        response = _OPENER.open(url, timeout=timeout)
        try:
            status = response.getcode()
        finally:
            response.close()
        return HEALTHY if 200 <= status < 300 else NOT_RESPONDING
    except urllib_error.HTTPError:
        return NOT_RESPONDING
    except Exception:  # noqa: BLE001 - any transport failure counts as an error
        return ERROR


PEER_ID_SNIPPET = (
    "import json,urllib.request;"
    "o=urllib.request.build_opener(urllib.request.ProxyHandler({}));"
    "print(json.loads(o.open('http://localhost:%d/v1/self',timeout=10).read().decode()).get('id',''))"
)


def lookup_peer_id(host, opentela_port):
    """The OpenTela peer id of a node, asked on the node itself (its API listens on localhost)."""
    if not host or opentela_port <= 0:
        return None
    command = [
        "srun", "--overlap", "--nodes=1", "--ntasks=1", "--nodelist=%s" % host,
        "python3", "-c", PEER_ID_SNIPPET % opentela_port,
    ]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None
        if process.returncode != 0:
            return None
        peer_id = out.strip().splitlines()[-1].strip() if out.strip() else ""
        return peer_id or None
    except Exception:  # noqa: BLE001
        return None


def cancel_predecessor(job_id):
    """scancel the predecessor; True when it is gone (cancelled now or already ended)."""
    try:
        process = subprocess.Popen(
            ["scancel", job_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True
        )
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            log("scancel %s timed out; will retry" % job_id)
            return False
    except Exception as error:  # noqa: BLE001
        log("scancel %s failed: %s; will retry" % (job_id, error))
        return False
    if process.returncode == 0:
        return True
    text = (out + err).lower()
    if "invalid job id" in text or "already completing or completed" in text or "job has finished" in text:
        log("predecessor job %s has already ended" % job_id)
        return True
    log("scancel %s failed (exit %d): %s; will retry" % (job_id, process.returncode, (err or out).strip()))
    return False


def mark_served(report_path, replica):
    """replica_<r>.served next to the report: master.sh restarts only a replica that once served
    (one that fails while starting would fail the same way again)."""
    try:
        open(os.path.join(os.path.dirname(report_path) or ".", "replica_%d.served" % replica), "w").close()
    except OSError as error:
        log("cannot mark replica %d as served: %s" % (replica, error))


def write_report(path, report):
    tmp_path = path + ".tmp"
    with open(tmp_path, "w") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp_path, path)


class Checker(object):
    def __init__(self, environ):
        self.report_path = environ.get("SML_HEALTH_REPORT_PATH", "replica_health.json")
        self.ips = split_list(environ.get("SML_HEALTH_REPLICA_IPS"))
        hosts = split_list(environ.get("SML_HEALTH_REPLICA_HOSTS"))
        self.hosts = hosts + [None] * (len(self.ips) - len(hosts))
        default_port = int_env("SML_HEALTH_FRAMEWORK_PORT", 8080)
        ports = [int(p) for p in split_list(environ.get("SML_HEALTH_REPLICA_PORTS")) if p.isdigit()]
        self.ports = ports + [default_port] * (len(self.ips) - len(ports))
        self.nodes_per_replica = max(1, int_env("SML_HEALTH_NODES_PER_REPLICA", 1))
        self.interval = max(1, int_env("SML_HEALTH_INTERVAL", 30))
        self.startup_interval = max(1, int_env("SML_HEALTH_STARTUP_INTERVAL", min(5, self.interval)))
        self.timeout = max(1, int_env("SML_HEALTH_TIMEOUT", 10))
        self.opentela_port = int_env("SML_HEALTH_OPENTELA_PORT", 8092)
        self.previous_job_id = (environ.get("SML_HEALTH_PREVIOUS_JOB_ID") or "").strip()
        self.max_cycles = int_env("SML_HEALTH_MAX_CYCLES", 0)
        self.router_url = (environ.get("SML_HEALTH_ROUTER_URL") or "").strip().rstrip("/")
        self.router_last_seen = None
        self.last_seen = [None] * len(self.ips)
        self.peer_ids = [None] * len(self.ips)
        self.peer_attempts = [0] * len(self.ips)
        self.was_all_healthy = False
        self.is_predecessor_gone = not self.previous_job_id

    def check_once(self):
        entries = []
        for replica, ip in enumerate(self.ips):
            health = probe(ip, self.ports[replica], self.timeout)
            if health == HEALTHY:
                if self.last_seen[replica] is None:
                    mark_served(self.report_path, replica)
                self.last_seen[replica] = int(time.time())
                if self.peer_ids[replica] is None and self.peer_attempts[replica] < MAX_PEER_ID_ATTEMPTS:
                    self.peer_attempts[replica] += 1
                    self.peer_ids[replica] = lookup_peer_id(self.hosts[replica], self.opentela_port)
            elif self.last_seen[replica] is None:
                health = NOT_DEPLOYED
            if health != HEALTHY and self.peer_ids[replica] is not None:
                # master.sh restarts a replica that exits: its OpenTela registration is made anew.
                self.peer_ids[replica] = None
                self.peer_attempts[replica] = 0
            entries.append(
                {
                    "replica": replica,
                    "node_rank": replica * self.nodes_per_replica,
                    "node_ip": ip,
                    "node_host": self.hosts[replica],
                    "port": self.ports[replica],
                    "peer_id": self.peer_ids[replica],
                    "health": health,
                    "last_seen": self.last_seen[replica],
                }
            )
        router = None
        if self.router_url:
            router_health = probe_url(self.router_url + "/health", self.timeout)
            if router_health == HEALTHY:
                self.router_last_seen = int(time.time())
            elif self.router_last_seen is None:
                router_health = NOT_DEPLOYED
            router = {"url": self.router_url, "health": router_health, "last_seen": self.router_last_seen}
        is_all_healthy = (
            len(entries) > 0
            and all(e["health"] == HEALTHY for e in entries)
            and (router is None or router["health"] == HEALTHY)
        )
        if is_all_healthy and not self.was_all_healthy:
            log("all %d replicas healthy" % len(entries))
        self.was_all_healthy = self.was_all_healthy or is_all_healthy
        if is_all_healthy and not self.is_predecessor_gone:
            log("all %d replicas healthy; cancelling predecessor job %s" % (len(entries), self.previous_job_id))
            self.is_predecessor_gone = cancel_predecessor(self.previous_job_id)
        report = {
            "checked_at": int(time.time()),
            "replicas": entries,
            "router": router,
            "all_healthy": is_all_healthy,
            "previous_job_id": self.previous_job_id or None,
            "previous_job_cancelled": bool(self.previous_job_id) and self.is_predecessor_gone,
        }
        write_report(self.report_path, report)
        return report

    def run(self):
        log(
            "watching %d replicas (%s)"
            % (len(self.ips), ", ".join("%s:%d" % (ip, port) for ip, port in zip(self.ips, self.ports)))
        )
        cycles = 0
        while True:
            try:
                self.check_once()
            except Exception as error:  # noqa: BLE001 - keep watching whatever happens
                log("check failed: %r" % (error,))
            cycles += 1
            if self.max_cycles and cycles >= self.max_cycles:
                return
            time.sleep(self.interval if self.was_all_healthy else self.startup_interval)


if __name__ == "__main__":
    Checker(os.environ).run()
