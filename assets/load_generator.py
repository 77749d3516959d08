#!/usr/bin/env python3
"""Load generator of sml-mcp (stdlib only, Python 3.6 compatible).

Runs as its own SLURM job next to a serving deployment (compute nodes are rarely reachable from a
laptop). It sends streaming OpenAI chat completions to the deployment's endpoint in steps, each
either closed-loop (N concurrent streams, each sending its next request when the last one ends) or
open-loop (a fixed arrival rate), and measures per request the time to first token (TTFT), the
mean gap between later tokens (ITL) and the end-to-end latency (E2E). It appends one JSON object
per line to the results file as it goes, so a reader can follow it by byte offset:

  {"type": "start", ...}                          the resolved target and the plan
  {"type": "metrics", "when": "before", ...}      each engine's raw Prometheus /metrics text
  {"type": "progress", ...}                       every few seconds while a step runs
  {"type": "step", ...}                           one step's figures (p50/p90/p99, rates, errors)
  {"type": "stopped", ...}                        a sweep stopped early: errors or latency past the limit
  {"type": "metrics", "when": "after", ...}
  {"type": "end", "ok": true|false, "error": ...}

Usage: python3 load_generator.py CONFIG_JSON RESULTS_JSONL
CONFIG_JSON (written by sml-mcp):
  target: {"url": "http://host:port/v1"}  or, to wait for a deployment of the same cluster,
          {"health_report": path, "router_port": int|null, "replica_ports": [int], "replicas": int}
  metrics_urls: [url]        engine /metrics URLs (derived from the health report when omitted)
  model, ready_timeout_s, request_timeout_s, prompt_tokens, max_tokens, ignore_eos, prompt_seed,
  prompts_file (JSON list of strings or {"prompt"|"messages"} objects; optional),
  steps: [{"concurrency": N | "rate": R, "duration_s": S}], stop: {"max_error_rate", "max_p99_ttft_s"}
The API key, when one is needed, is read from the file named by SML_LOADTEST_API_KEY_FILE.
"""

import http.client
import json
import os
import random
import re
import sys
import threading
import time

try:  # Python 3
    import urllib.parse as urllib_parse
except ImportError:  # pragma: no cover
    raise SystemExit("load generator needs Python 3")

PROGRESS_EVERY_S = 2.0
MAX_METRICS_BYTES = 512 * 1024
MAX_IN_FLIGHT = 2048
# Engine gauges sampled while a step runs (sglang and vLLM names), for the step's peak figures.
GAUGES = {
    "requests_running": ("sglang:num_running_reqs", "vllm:num_requests_running"),
    "requests_queued": ("sglang:num_queue_reqs", "vllm:num_requests_waiting"),
    "kv_cache_usage": ("sglang:token_usage", "vllm:kv_cache_usage_perc"),
}
WORDS = (
    "the of and to in is that for on with as by at from this it be are was an or which data model "
    "system cluster node serve token request time load test value result method field energy light "
    "river mountain city history science language music market policy network memory signal"
).split()


class Results(object):
    """Appends JSON lines, flushed and fsynced, so a remote reader sees whole lines only."""

    def __init__(self, path):
        self.handle = open(path, "a")
        self.lock = threading.Lock()

    def write(self, record):
        line = json.dumps(record, separators=(",", ":"), sort_keys=True)
        with self.lock:
            self.handle.write(line + "\n")
            self.handle.flush()
            try:
                os.fsync(self.handle.fileno())
            except OSError:
                pass


def now():
    return time.time()


def percentile(values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def quantiles(values):
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "mean": (sum(values) / len(values)) if values else None,
    }


# ------------------------------------------------------------------ target
def http_get(url, timeout):
    parts = urllib_parse.urlsplit(url)
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/")
        response = conn.getresponse()
        return response.status, response.read(MAX_METRICS_BYTES).decode("utf-8", "replace")
    finally:
        conn.close()


def resolve_target(config, results):
    """The endpoint URL and the engines' /metrics URLs; waits for the deployment when needed."""
    target = config["target"]
    deadline = now() + float(config.get("ready_timeout_s", 900))
    if target.get("url"):
        url = target["url"].rstrip("/")
        metrics = config.get("metrics_urls") or []
        wait_ready(url, deadline)
        return url, metrics
    said = 0.0
    while True:
        report = read_report(target["health_report"])
        replicas = report.get("replicas", []) if isinstance(report, dict) else []
        healthy = [r for r in replicas if r.get("health") == "HEALTHY" and r.get("node_ip")]
        if len(healthy) >= int(target.get("replicas", 1)) and healthy:
            break
        if now() > deadline:
            raise RuntimeError(
                "the deployment did not become healthy within %ss (%d of %s replicas healthy)"
                % (config.get("ready_timeout_s", 900), len(healthy), target.get("replicas", 1))
            )
        if now() - said > 30:
            said = now()
            results.write({"type": "waiting", "at": now(), "replicas_healthy": len(healthy)})
        time.sleep(2)
    ports = target.get("replica_ports") or []
    heads = {}
    for replica in healthy:
        index = int(replica.get("replica", 0))
        # The checker reports each replica's port; the launch's layout is the fallback.
        port = int(replica.get("port") or (ports[index] if index < len(ports) else 8080))
        heads[index] = "http://%s:%d" % (replica["node_ip"], port)
    first = heads[min(heads)]
    if target.get("router_port"):
        url = "http://%s:%d/v1" % (urllib_parse.urlsplit(first).hostname, int(target["router_port"]))
    else:
        url = first + "/v1"
    wait_ready(url, deadline)
    return url, [heads[i] + "/metrics" for i in sorted(heads)]


def read_report(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return {}


def wait_ready(url, deadline):
    """Until GET <url>/models answers 200 (the router's own /health answers before its workers)."""
    while True:
        try:
            status, _ = http_get(url + "/models", 10)
            if status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        if now() > deadline:
            raise RuntimeError("%s/models did not answer 200 before the ready timeout" % url)
        time.sleep(2)


def engine_gauges(urls):
    """Running, queued and KV-cache use summed over the engines (None when none answers)."""
    totals = {}
    for url in urls:
        try:
            status, text = http_get(url, 5)
        except (OSError, http.client.HTTPException):
            continue
        if status != 200:
            continue
        for key, names in GAUGES.items():
            for name in names:
                values = re.findall(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
                if values:
                    totals[key] = totals.get(key, 0.0) + sum(float(v) for v in values)
                    break
    return totals


def snapshot_metrics(urls):
    engines = []
    for url in urls:
        try:
            status, text = http_get(url, 10)
            engines.append({"url": url, "status": status, "text": text if status == 200 else ""})
        except (OSError, http.client.HTTPException) as error:
            engines.append({"url": url, "status": None, "text": "", "error": str(error)})
    return engines


# ------------------------------------------------------------------ prompts
class Prompts(object):
    def __init__(self, config):
        self.random = random.Random(int(config.get("prompt_seed", 1)))
        self.length = max(1, int(config.get("prompt_tokens", 128)))
        self.items = []
        path = config.get("prompts_file")
        if path:
            with open(path) as handle:
                loaded = json.load(handle)
            items = loaded.get("prompts", []) if isinstance(loaded, dict) else loaded
            for item in items:
                if isinstance(item, str):
                    self.items.append([{"role": "user", "content": item}])
                elif isinstance(item, dict) and isinstance(item.get("messages"), list):
                    self.items.append(item["messages"])
                elif isinstance(item, dict) and isinstance(item.get("prompt"), str):
                    self.items.append([{"role": "user", "content": item["prompt"]}])
            if not self.items:
                raise RuntimeError("prompts file %s holds no prompts" % path)
            self.random.shuffle(self.items)
        self.lock = threading.Lock()
        self.count = 0

    def next(self):
        with self.lock:
            self.count += 1
            if self.items:
                return self.items[self.count % len(self.items)]
            # A distinct opening word defeats prefix caching across requests.
            words = ["q%d" % self.count] + [self.random.choice(WORDS) for _ in range(self.length - 1)]
        return [{"role": "user", "content": " ".join(words)}]


# ------------------------------------------------------------------ one request
class Client(object):
    """One persistent HTTP connection (one concurrent stream of the load)."""

    def __init__(self, url, timeout, api_key):
        parts = urllib_parse.urlsplit(url)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port
        self.path = (parts.path or "") + "/chat/completions"
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            self.headers["Authorization"] = "Bearer " + api_key
        self.conn = None

    def connect(self):
        conn_class = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        self.conn = conn_class(self.host, self.port, timeout=self.timeout)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def send(self, body):
        """Returns {ok, ttft, itl, e2e, output_tokens, error}; times in seconds."""
        started = now()
        deadline = started + self.timeout
        record = {"ok": False, "ttft": None, "itl": None, "e2e": None, "output_tokens": 0, "error": None}
        try:
            if self.conn is None:
                self.connect()
            self.conn.request("POST", self.path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            if response.status != 200:
                response.read()
                record["error"] = "http_%d" % response.status
                return record
            first = last = None
            chunks = 0
            usage_tokens = None
            done = False
            while True:
                if now() > deadline:
                    record["error"] = "timeout"
                    self.close()
                    return record
                line = response.readline()
                if not line:
                    break
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    done = True
                    continue
                try:
                    event = json.loads(data.decode("utf-8"))
                except ValueError:
                    record["error"] = "bad_event"
                    self.close()
                    return record
                if isinstance(event.get("usage"), dict) and event["usage"].get("completion_tokens") is not None:
                    usage_tokens = int(event["usage"]["completion_tokens"])
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") or {}
                    text = delta.get("content") or delta.get("reasoning_content") or choice.get("text")
                    if text:
                        stamp = now()
                        if first is None:
                            first = stamp
                        last = stamp
                        chunks += 1
            ended = now()
            if not done:
                record["error"] = "incomplete_stream"
                self.close()
                return record
            if first is None:
                record["error"] = "no_tokens"
                return record
            tokens = usage_tokens if usage_tokens is not None else chunks
            record.update(ok=True, ttft=first - started, e2e=ended - started, output_tokens=tokens)
            if tokens > 1:
                record["itl"] = (last - first) / (tokens - 1)
            return record
        except (OSError, http.client.HTTPException) as error:
            self.close()
            name = type(error).__name__
            record["error"] = "timeout" if "timeout" in name.lower() or "timed out" in str(error) else "connection"
            return record


# ------------------------------------------------------------------ steps
class Step(object):
    """Collects the outcomes of one step; progress lines while it runs."""

    def __init__(self, index, spec, results, metrics_urls):
        self.index = index
        self.spec = spec
        self.results = results
        self.metrics_urls = metrics_urls
        self.peak = {}
        self.lock = threading.Lock()
        self.records = []
        self.in_flight = 0
        self.dropped = 0
        self.started = now()
        self.ended = None

    def add(self, record):
        with self.lock:
            self.records.append(record)

    def progress(self):
        gauges = engine_gauges(self.metrics_urls)
        for key, value in gauges.items():
            self.peak[key] = max(self.peak.get(key, value), value)
        with self.lock:
            done = len(self.records)
            errors = sum(1 for r in self.records if not r["ok"])
        self.results.write({
            "type": "progress", "at": now(), "step": self.index, "elapsed_s": round(now() - self.started, 1),
            "duration_s": self.spec["duration_s"], "completed": done, "errors": errors,
            "in_flight": self.in_flight, "engine": gauges,
        })

    def summary(self):
        elapsed = max((self.ended or now()) - self.started, 1e-6)
        good = [r for r in self.records if r["ok"]]
        errors = {}
        for record in self.records:
            if not record["ok"]:
                errors[record["error"]] = errors.get(record["error"], 0) + 1
        if self.dropped:
            errors["dropped"] = self.dropped
        output_tokens = sum(r["output_tokens"] for r in good)
        attempted = len(self.records) + self.dropped
        return {
            "type": "step", "index": self.index,
            "concurrency": self.spec.get("concurrency"), "rate": self.spec.get("rate"),
            "duration_s": round(elapsed, 3), "requests": len(self.records), "ok": len(good),
            "errors": errors, "error_rate": (attempted - len(good)) / float(attempted) if attempted else 0.0,
            "requests_per_s": len(good) / elapsed, "output_tokens_per_s": output_tokens / elapsed,
            "output_tokens_mean": (output_tokens / float(len(good))) if good else None,
            "ttft_s": quantiles([r["ttft"] for r in good]),
            "itl_s": quantiles([r["itl"] for r in good if r["itl"] is not None]),
            "e2e_s": quantiles([r["e2e"] for r in good]),
            "engine_peak": self.peak,
        }


def run_closed(step, url, config, prompts, api_key):
    """N streams; each sends its next request as soon as the previous one ended."""
    stop_at = step.started + step.spec["duration_s"]

    def stream():
        client = Client(url, float(config.get("request_timeout_s", 300)), api_key)
        try:
            while now() < stop_at:
                with step.lock:
                    step.in_flight += 1
                record = client.send(request_body(config, prompts))
                with step.lock:
                    step.in_flight -= 1
                step.add(record)
        finally:
            client.close()

    threads = [threading.Thread(target=stream) for _ in range(int(step.spec["concurrency"]))]
    for thread in threads:
        thread.daemon = True
        thread.start()
    follow(step, threads)


def run_open(step, url, config, prompts, api_key):
    """A fixed arrival rate (evenly spaced), each request on its own connection, whatever the answers."""
    rate = float(step.spec["rate"])
    total = int(rate * step.spec["duration_s"])
    threads = []

    def one():
        client = Client(url, float(config.get("request_timeout_s", 300)), api_key)
        try:
            step.add(client.send(request_body(config, prompts)))
        finally:
            client.close()
            with step.lock:
                step.in_flight -= 1

    last_progress = now()
    for i in range(total):
        due = step.started + i / rate
        pause = due - now()
        if pause > 0:
            time.sleep(pause)
        with step.lock:
            if step.in_flight >= MAX_IN_FLIGHT:
                step.dropped += 1
                continue
            step.in_flight += 1
        thread = threading.Thread(target=one)
        thread.daemon = True
        thread.start()
        threads.append(thread)
        if now() - last_progress >= PROGRESS_EVERY_S:
            last_progress = now()
            step.progress()
    follow(step, threads)


def follow(step, threads):
    """Wait for the step's threads, writing a progress line every few seconds."""
    said = now()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
            if now() - said >= PROGRESS_EVERY_S:
                said = now()
                step.progress()
    step.ended = now()


def request_body(config, prompts):
    body = {
        "model": config["model"],
        "messages": prompts.next(),
        "max_tokens": int(config.get("max_tokens", 128)),
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": float(config.get("temperature", 1.0)),
    }
    if config.get("ignore_eos", True):
        body["ignore_eos"] = True
    return json.dumps(body).encode("utf-8")


def should_stop(summary, stop):
    if not stop:
        return None
    max_error_rate = stop.get("max_error_rate")
    if max_error_rate is not None and summary["error_rate"] > float(max_error_rate):
        return "error rate %.1f%% above %.1f%%" % (summary["error_rate"] * 100, float(max_error_rate) * 100)
    limit = stop.get("max_p99_ttft_s")
    p99 = summary["ttft_s"]["p99"]
    if limit is not None and p99 is not None and p99 > float(limit):
        return "p99 TTFT %.2f s above %.2f s" % (p99, float(limit))
    return None


def read_api_key():
    path = os.environ.get("SML_LOADTEST_API_KEY_FILE")
    if not path:
        return None
    with open(path) as handle:
        return handle.read().strip() or None


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: load_generator.py CONFIG_JSON RESULTS_JSONL\n")
        return 2
    with open(argv[1]) as handle:
        config = json.load(handle)
    results = Results(argv[2])
    try:
        api_key = read_api_key()
        prompts = Prompts(config)
        url, metrics_urls = resolve_target(config, results)
        results.write({"type": "start", "at": now(), "url": url, "metrics_urls": metrics_urls,
                       "steps": config["steps"], "model": config["model"]})
        results.write({"type": "metrics", "when": "before", "at": now(), "engines": snapshot_metrics(metrics_urls)})
        for index, spec in enumerate(config["steps"]):
            step = Step(index, spec, results, metrics_urls)
            if spec.get("rate") is not None:
                run_open(step, url, config, prompts, api_key)
            else:
                run_closed(step, url, config, prompts, api_key)
            summary = step.summary()
            results.write(summary)
            reason = should_stop(summary, config.get("stop"))
            if reason and index + 1 < len(config["steps"]):
                results.write({"type": "stopped", "at": now(), "after_step": index, "reason": reason})
                break
        results.write({"type": "metrics", "when": "after", "at": now(), "engines": snapshot_metrics(metrics_urls)})
        results.write({"type": "end", "at": now(), "ok": True, "error": None})
        return 0
    except Exception as error:  # the reader needs an end line whatever happened
        results.write({"type": "end", "at": now(), "ok": False, "error": "%s: %s" % (type(error).__name__, error)})
        sys.stderr.write("load generator failed: %s\n" % error)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
