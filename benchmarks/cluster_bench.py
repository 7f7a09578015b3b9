#!/usr/bin/env python3
"""Cluster mode next to the embedded ledger, on one machine (`scripts/bench --cluster`).

Starts `scripts/cluster up` (3 etcd, 3 PostgreSQL under Patroni, 3 ledger nodes) and one
embedded `fundledger serve` in temporary directories, then measures:
  - single posts (appropriations, one durable commit each) at 1/8/64 connections, with
    benchmarks/http_load, on the cluster's writer and on the embedded ledger;
  - follower lag under the 64-connection load: the followers' /healthz lag_entries and lag_ms,
    sampled every 100 ms;
  - failover: kill -9 of the PostgreSQL primary (Patroni and postmaster) to the first
    acknowledged post after it.
Writes benchmarks/results/<date>-<host>-cluster.md and .json; stops everything it started.

  benchmarks/cluster_bench.py [--seconds 5] [--connections 1,8,64]
"""

import argparse
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
CLI = os.path.join(ROOT, "build", "release", "api", "fundledger")
LOAD = os.path.join(ROOT, "build", "release", "benchmarks", "http_load")
CLUSTER = os.path.join(ROOT, "scripts", "cluster")
FAILOVER_WAIT_S = 120
LAG_SAMPLE_S = 0.1
SERVE_READY_S = 30
FUND = "F-SUBSIDY"


def request(port, method, path, token=None, body=None, key=None, timeout_s=90):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=body.encode() if body else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if key:
        req.add_header("Idempotency-Key", key)
    if body:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


def open_fund(port, token):
    body = json.dumps({"fund_id": FUND, "name": "Subsidy", "kind": "subsidy",
                       "organisation": "bureau", "currency": "CNY"})
    status, text = request(port, "POST", "/v1/funds", token, body, key="bench-open-fund")
    if status not in (200, 201):
        sys.exit(f"cluster_bench: opening {FUND} failed: {status} {text}")


def load(port, token, connections, seconds, tag):
    r = subprocess.run([LOAD, "--port", str(port), "--token", token, "--connections",
                        str(connections), "--seconds", str(seconds), "--kind", "appropriation",
                        "--fund", FUND, "--tag", tag], capture_output=True, text=True)
    fields = dict(re.findall(r"(\w+)=(\S+)", r.stdout))
    if "req_per_s" not in fields:
        sys.exit(f"cluster_bench: http_load failed: {r.stdout}{r.stderr}")
    return {k: float(v) if re.fullmatch(r"[\d.]+", v) else v for k, v in fields.items()}


def health(port):
    status, text = request(port, "GET", "/healthz", timeout_s=2)
    try:
        return json.loads(text) if status in (200, 503) else None
    except ValueError:
        return None


class LagSampler:
    """The followers' largest lag while it runs."""

    def __init__(self, ports):
        self.ports, self.max_entries, self.max_ms, self.stop = ports, 0, 0, False
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while not self.stop:
            for port in self.ports:
                h = health(port)
                if h:
                    self.max_entries = max(self.max_entries, h.get("lag_entries", 0))
                    self.max_ms = max(self.max_ms, h.get("lag_ms", 0))
            time.sleep(LAG_SAMPLE_S)

    def finish(self):
        self.stop = True
        self.thread.join()


def cluster_status(cdir):
    subprocess.run([CLUSTER, "status", cdir], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(cdir, "cluster.json")) as f:
        return json.load(f)


def writer_port(status):
    for n in status["nodes"]:
        port = int(n["url"].rsplit(":", 1)[1])
        h = health(port)
        if h and h.get("role") == "writer":
            return port
    return None


def failover(cdir, token):
    """Seconds from the kill of the primary to the first acknowledged post after it."""
    status = cluster_status(cdir)
    primary = next(p for p in status["postgres"] if p["role"] == "primary")
    os.kill(primary["patroni_pid"], signal.SIGKILL)
    os.kill(primary["pid"], signal.SIGKILL)
    killed = time.monotonic()
    body = json.dumps({"fund_id": FUND, "bucket": "general", "amount_fen": 100,
                       "source": "treasury", "document": "failover"})
    while time.monotonic() - killed < FAILOVER_WAIT_S:
        port = writer_port(status)
        if port:
            code, _ = request(port, "POST", "/v1/appropriations", token, body, key="bench-failover")
            if code in (200, 201):
                return time.monotonic() - killed
        time.sleep(0.1)
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded(work, connections, seconds):
    data = os.path.join(work, "embedded")
    subprocess.run([CLI, "init", "--data", data, "--origin", "bench.example/embedded"], check=True,
                   capture_output=True)
    token = subprocess.run([CLI, "token", "add", "--data", data, "--actor", "admin.zhao", "--role",
                            "admin"], check=True, capture_output=True, text=True).stdout.split()[-1]
    port = free_port()
    log = open(os.path.join(work, "embedded.log"), "wb")
    server = subprocess.Popen([CLI, "serve", "--data", data, "--listen", f"127.0.0.1:{port}",
                               "--quiet"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVE_READY_S
        while health(port) is None:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("cluster_bench: the embedded server did not start")
            time.sleep(0.1)
        open_fund(port, token)
        return {c: load(port, token, c, seconds, f"embedded-{c}") for c in connections}
    finally:
        server.terminate()
        server.wait(timeout=30)


def write_results(results):
    stamp = datetime.date.today().isoformat()
    out = os.path.join(ROOT, "benchmarks", "results", f"{stamp}-{socket.gethostname()}-cluster")
    with open(out + ".json", "w") as f:
        json.dump(results, f, indent=2)
    lines = ["# Cluster mode next to the embedded ledger", "",
             f"{results['date']}, {results['cores']} cores; posts: appropriations, "
             f"{results['seconds']} s per run.", "",
             "| connections | embedded req/s | cluster req/s | cluster / embedded | embedded p50 / p99 ms | cluster p50 / p99 ms |",
             "|---|---|---|---|---|---|"]
    for c, e in results["embedded"].items():
        k = results["cluster"][c]
        lines.append(f"| {c} | {e['req_per_s']:.0f} | {k['req_per_s']:.0f} | "
                     f"{k['req_per_s'] / e['req_per_s']:.2f} | {e['p50_ms']:.2f} / {e['p99_ms']:.2f} | "
                     f"{k['p50_ms']:.2f} / {k['p99_ms']:.2f} |")
    lag = results["follower_lag"]
    lines += ["", f"Follower lag under the {lag['connections']}-connection load: at most "
              f"{lag['max_entries']} entries, {lag['max_ms']} ms.", "",
              f"Failover (kill -9 of the primary to the first acknowledged post): "
              f"{results['failover_s']} s." if results["failover_s"] is not None else
              "Failover: no post acknowledged within the wait.", ""]
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines))
    print(f"cluster_bench: results in {out}.md and {out}.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,8,64")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    for binary in (CLI, LOAD):
        if not os.access(binary, os.X_OK):
            sys.exit(f"cluster_bench: {binary} missing: run scripts/build")
    work = tempfile.mkdtemp(prefix="flcb-")
    os.chmod(work, 0o755)
    cdir = os.path.join(work, "c")
    results = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
               "cores": os.cpu_count(), "seconds": args.seconds}
    try:
        results["embedded"] = embedded(work, connections, args.seconds)
        subprocess.run([CLUSTER, "up", cdir], check=True, env=dict(os.environ, FUNDLEDGER_CLI=CLI))
        status = cluster_status(cdir)
        token = status["tokens"]["admin"]
        port = writer_port(status)
        open_fund(port, token)
        followers = [int(n["url"].rsplit(":", 1)[1]) for n in status["nodes"]
                     if int(n["url"].rsplit(":", 1)[1]) != port]
        results["cluster"] = {}
        for c in connections:
            sampler = LagSampler(followers) if c == max(connections) else None
            results["cluster"][c] = load(port, token, c, args.seconds, f"cluster-{c}")
            if sampler:
                sampler.finish()
                results["follower_lag"] = {"connections": c, "max_entries": sampler.max_entries,
                                           "max_ms": sampler.max_ms}
        t = failover(cdir, token)
        results["failover_s"] = None if t is None else round(t, 1)
    finally:
        subprocess.run([CLUSTER, "down", cdir], stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", work])
    write_results(results)


if __name__ == "__main__":
    main()
