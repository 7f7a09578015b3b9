#!/usr/bin/env python3
"""Cluster mode next to the embedded ledger, on one machine (`scripts/bench --cluster`).

Starts `scripts/cluster up` (3 etcd, 3 PostgreSQL under Patroni, 3 ledger nodes) and one
embedded `fundledger serve` in temporary directories, both holding the roll benchmarks' city
(`fundledger roll-city`: the cluster's log created by n0 before the nodes start), then measures:
  - the roll (--roll-lines, 1M): one CSV upload of every person's line (prepare) and its
    approval over HTTP, on the embedded server and on the cluster's writer; in the cluster, also
    until both followers hold it (replicated);
  - catch-up: from the start of the followers (empty) to their holding the city's log;
  - single posts (appropriations, one durable commit each) at 1/8/64 connections, with
    benchmarks/http_load, on the cluster's writer and on the embedded ledger;
  - follower lag under the 64-connection load: the followers' /healthz lag_entries and lag_ms,
    sampled every 100 ms;
  - failover: kill -9 of the PostgreSQL primary (Patroni and postmaster) to the first
    acknowledged post after it.
Writes benchmarks/results/<date>-<host>-cluster.md and .json; stops everything it started.

  benchmarks/cluster_bench.py [--seconds 5] [--connections 1,8,64] [--roll-lines 1000000]
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
SERVE_READY_S = 300  # a ledger of millions of entries rebuilds its projections first
FUND = "F-SUBSIDY"
ORIGIN = "cluster.fundledger.local"  # scripts/cluster's
ROLL_WAIT_S = 600
ROLL_QUERY = "fund_id=F&period=2025-03&batch_id=ROLL-BENCH"
# Before a roll, the side under test is left until its processes are idle: the cluster's city
# is loaded just before, and PostgreSQL's vacuum of two million new rows (full-page images,
# with data checksums), its checkpoint and the standbys' replay of both would otherwise run
# during the roll; the embedded store's compactions likewise.
SETTLE_WAIT_S = 300
SETTLE_IDLE_CPU = 0.1  # CPU seconds a second, all the side's processes together (Patroni's
                       # and etcd's steady heartbeats are left out of the count)


def request(port, method, path, token=None, body=None, key=None, timeout_s=90,
            content_type="application/json"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=body.encode() if body else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if key:
        req.add_header("Idempotency-Key", key)
    if body:
        req.add_header("Content-Type", content_type)
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


def roll_csv(lines):
    return "beneficiary_id,program_id,amount\n" + "".join(f"B{i},dibao,1045\n" for i in range(lines))


def roll(port, tokens, csv, lines):
    """Seconds of the roll's upload (prepare) and of its approval, each one request."""
    start = time.monotonic()
    status, text = request(port, "POST", f"/v1/disbursement-batches?{ROLL_QUERY}",
                           tokens["maker"], csv, key="bench-roll", timeout_s=ROLL_WAIT_S,
                           content_type="text/csv")
    prepared = time.monotonic()
    if status != 201 or f'"lines":{lines}' not in text:
        sys.exit(f"cluster_bench: the roll's upload failed: {status} {text[:500]}")
    status, text = request(port, "POST", "/v1/disbursement-batches/ROLL-BENCH/approve",
                           tokens["checker"], json.dumps({"document": "bench"}),
                           key="bench-roll-approve", timeout_s=ROLL_WAIT_S)
    if status != 201:
        sys.exit(f"cluster_bench: the roll's approval failed: {status} {text[:500]}")
    return {"_start": start, "lines": lines, "prepare_s": round(prepared - start, 2),
            "approve_s": round(time.monotonic() - prepared, 2),
            "total_s": round(time.monotonic() - start, 2)}


def wait_applied(ports, size, timeout_s=ROLL_WAIT_S):
    """Waits until every node of `ports` has applied `size` entries; False after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all((health(p) or {}).get("applied_size", 0) >= size for p in ports):
            return True
        time.sleep(0.05)
    return False


def process_tree_cpu(pids):
    """CPU seconds so far of `pids` and all their descendants (PostgreSQL's backends,
    walsenders and the rest are children of its postmaster)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, grew = {p for p in pids if p in stats}, True
    while grew:
        children = {p for p, (ppid, _) in stats.items() if ppid in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(stats[p][1] for p in tree)


def settle(pids):
    """Waits until `pids` (with their descendants) use under SETTLE_IDLE_CPU for a second;
    the seconds waited (SETTLE_WAIT_S at most)."""
    start = time.monotonic()
    before = process_tree_cpu(pids)
    while time.monotonic() - start < SETTLE_WAIT_S:
        time.sleep(1)
        now = process_tree_cpu(pids)
        if now - before < SETTLE_IDLE_CPU:
            break
        before = now
    return round(time.monotonic() - start, 1)


def cluster_pids(status):
    """The ledger nodes and the PostgreSQL postmasters (their backends are children)."""
    return [m["pid"] for group in ("nodes", "postgres") for m in status.get(group, [])
            if m.get("pid")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def roll_city(args):
    r = subprocess.run([CLI, "roll-city", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"cluster_bench: roll-city failed: {r.stdout}{r.stderr}")
    print(f"cluster_bench: {r.stdout.strip()}")


def embedded(work, connections, seconds, roll_lines, csv):
    data = os.path.join(work, "embedded")
    roll_city(["--data", data, "--origin", "bench.example/embedded", "--people",
               str(max(roll_lines, 1))])
    tokens = {}
    for role, actor in (("admin", "admin.zhao"), ("maker", "clerk.li"), ("checker", "checker.wang")):
        tokens[role] = subprocess.run(
            [CLI, "token", "add", "--data", data, "--actor", actor, "--role", role], check=True,
            capture_output=True, text=True).stdout.split()[-1]
    token = tokens["admin"]
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
        posts_settled_s = settle([server.pid])
        posts = {c: load(port, token, c, seconds, f"embedded-{c}") for c in connections}
        r = None
        if roll_lines:
            settled_s = settle([server.pid])
            r = roll(port, tokens, csv, roll_lines)
            r["settled_s"] = settled_s
            del r["_start"]
        return posts, r, posts_settled_s
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
    settled = results.get("posts_settled_s", {})
    for c, e in results["embedded"].items():
        k = results["cluster"][c]
        lines.append(f"| {c} | {e['req_per_s']:.0f} | {k['req_per_s']:.0f} | "
                     f"{k['req_per_s'] / e['req_per_s']:.2f} | {e['p50_ms']:.2f} / {e['p99_ms']:.2f} | "
                     f"{k['p50_ms']:.2f} / {k['p99_ms']:.2f} |")
    if settled:
        lines += ["", f"Before the posts each side was left until its processes were idle: the "
                  f"embedded server {settled['embedded']} s, the cluster {settled['cluster']} s."]
    e, k = results.get("embedded_roll"), results.get("cluster_roll")
    if e and k:
        lines += ["", f"The roll of {e['lines']:,} lines (one upload, then its approval):", "",
                  "| | prepare s | approve s | prepare + approve s | replicated s |",
                  "|---|---|---|---|---|",
                  f"| embedded | {e['prepare_s']} | {e['approve_s']} | {e['total_s']} | |",
                  f"| cluster | {k['prepare_s']} | {k['approve_s']} | {k['total_s']} | "
                  f"{k['replicated_s']} |", "",
                  f"Cluster / embedded for the roll (embedded s / cluster s): "
                  f"{e['total_s'] / k['total_s']:.2f}.", "",
                  f"Before its roll each side was left until its processes were idle "
                  f"(under {SETTLE_IDLE_CPU} CPU s a second): the embedded server "
                  f"{e.get('settled_s')} s after its posts, the cluster {k.get('settled_s')} s "
                  f"after its followers caught up with the city."]
    c = results["catch_up"]
    lines += ["", f"Followers started empty caught up with the city's log of {c['entries']:,} "
              f"entries in {c['seconds']} s (from scripts/cluster up with nodes)."]
    lag = results["follower_lag"]
    lines += ["", f"Follower lag under the {lag['connections']}-connection load: at most "
              f"{lag['max_entries']} entries, {lag['max_ms']} ms.", "",
              f"Failover (kill -9 of the primary to the first acknowledged post): "
              f"{results['failover_s']} s." if results["failover_s"] is not None else
              "Failover: no post acknowledged within the wait.", ""]
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines))
    print(f"cluster_bench: results in {out}.md and {out}.json")


def create_cluster(cdir, roll_lines):
    """scripts/cluster up with the city in its log: PostgreSQL first, the city written by n0's
    `roll-city`, then the nodes; the followers' catch-up from empty timed."""
    env = dict(os.environ, FUNDLEDGER_CLI=CLI)
    subprocess.run([CLUSTER, "up", cdir, "--no-nodes"], check=True, env=env)
    node = os.path.join(cdir, "nodes", "n0")
    os.makedirs(node, mode=0o700, exist_ok=True)
    with open(os.path.join(cdir, "cluster.json")) as f:
        dsn = json.load(f)["dsn"]
    with open(os.path.join(node, "node.json"), "w") as f:
        json.dump({"dsn": dsn, "origin": ORIGIN, "node": "n0", "data": os.path.join(node, "data")},
                  f)
    roll_city(["--cluster", os.path.join(node, "node.json"), "--people", str(max(roll_lines, 1))])
    start = time.monotonic()
    subprocess.run([CLUSTER, "up", cdir], check=True, env=env)
    status = cluster_status(cdir)
    port = writer_port(status)
    followers = [int(n["url"].rsplit(":", 1)[1]) for n in status["nodes"]
                 if int(n["url"].rsplit(":", 1)[1]) != port]
    size = health(port)["applied_size"]
    if not wait_applied(followers, size):
        sys.exit("cluster_bench: the followers did not catch up with the city's log")
    return status, port, followers, {"entries": size,
                                     "seconds": round(time.monotonic() - start, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,8,64")
    parser.add_argument("--roll-lines", type=int, default=1_000_000,
                        help="lines of the roll, and people of the city (0: no roll)")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    for binary in (CLI, LOAD):
        if not os.access(binary, os.X_OK):
            sys.exit(f"cluster_bench: {binary} missing: run scripts/build")
    results = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
               "cores": os.cpu_count(), "seconds": args.seconds}
    csv = roll_csv(args.roll_lines)
    # Everything the run writes (stores, DIR.keys beside them, the cluster) is under `work`,
    # removed at the end whatever happens.
    work = tempfile.mkdtemp(prefix="flcb-")
    os.chmod(work, 0o755)
    cdir = os.path.join(work, "c")
    try:
        results["embedded"], results["embedded_roll"], embedded_settled_s = embedded(
            work, connections, args.seconds, args.roll_lines, csv)
        print(f"cluster_bench: embedded {results['embedded']} roll {results['embedded_roll']}",
              flush=True)
        status, port, followers, results["catch_up"] = create_cluster(cdir, args.roll_lines)
        print(f"cluster_bench: catch-up {results['catch_up']}", flush=True)
        tokens = status["tokens"]
        token = tokens["admin"]
        if args.roll_lines:
            settled_s = settle(cluster_pids(status))
            r = roll(port, tokens, csv, args.roll_lines)
            r["settled_s"] = settled_s
            size = health(port)["applied_size"]
            if not wait_applied(followers, size):
                sys.exit("cluster_bench: the followers did not replicate the roll")
            r["replicated_s"] = round(time.monotonic() - r.pop("_start"), 2)
            results["cluster_roll"] = r
            print(f"cluster_bench: cluster roll {r}", flush=True)
        open_fund(port, token)
        results["posts_settled_s"] = {"embedded": embedded_settled_s,
                                      "cluster": settle(cluster_pids(status))}
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
