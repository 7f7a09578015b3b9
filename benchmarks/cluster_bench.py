#!/usr/bin/env python3
"""Cluster mode next to the embedded ledger, on one machine (`scripts/bench --cluster`).

Starts `scripts/cluster up` (3 etcd, 3 PostgreSQL under Patroni, 3 ledger nodes) and one
embedded `fundledger serve` in temporary directories, both holding the roll benchmarks' city
(`fundledger roll-city`: the cluster's log created by n0 before the nodes start), then measures:
  - the roll (--roll-lines, 1M), --roll-runs times on each side (default 3, each a new batch
    for the next month on the same city): one CSV upload of every person's line (prepare) and
    its approval over HTTP, on the embedded server and on the cluster's writer; in the cluster,
    also until both followers hold it (replicated). Each run records where its time went: the
    load average before it, the writer's commit-phase metric deltas (/metrics), CPU seconds by
    process group (RollProfile), the machine's steal and iowait, and in the cluster
    PostgreSQL's WAL, checkpoints and autovacuums over the roll; the ratio is median / median;
  - catch-up: from the start of the followers (empty) to their holding the city's log;
  - single posts (appropriations, one durable commit each) at 1/8/64 connections, with
    benchmarks/http_load, on the cluster's writer and on the embedded ledger;
  - follower lag under the 64-connection load: the followers' /healthz lag_entries and lag_ms,
    sampled every 100 ms;
  - failover: kill -9 of the PostgreSQL primary (Patroni and postmaster) to the first
    acknowledged post after it.
Writes benchmarks/results/<date>-<host>-cluster.md and .json; stops everything it started.

  benchmarks/cluster_bench.py [--seconds 5] [--connections 1,8,64] [--roll-lines 1000000]
                              [--roll-runs 3] [--roll-only] [--results NAME]
"""

import argparse
import datetime
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
# FUNDLEDGER_CLI runs another build of the program on both sides (an A/B of two builds).
CLI = os.environ.get("FUNDLEDGER_CLI") or os.path.join(ROOT, "build", "release", "api",
                                                       "fundledger")
LOAD = os.path.join(ROOT, "build", "release", "benchmarks", "http_load")
CLUSTER = os.path.join(ROOT, "scripts", "cluster")
FAILOVER_WAIT_S = 120
LAG_SAMPLE_S = 0.1
SERVE_READY_S = 300  # a ledger of millions of entries rebuilds its projections first
FUND = "F-SUBSIDY"
ORIGIN = "cluster.fundledger.local"  # scripts/cluster's
ROLL_WAIT_S = 600
ROLL_FIRST_MONTH = 3  # the city's people are enrolled from 2025-01; a month's roll pays once
ROLL_RUNS_MAX = 9  # one batch a month, within 2025
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


def group_figures(before, after):
    """What the writer's commit groups carried and spent between two reads of its /metrics:
    groups, posts a group, and milliseconds a group by commit phase."""
    commits = after.get("commits", 0) - before.get("commits", 0)
    if commits <= 0:
        return {"commits": 0}
    out = {"commits": int(commits),
           "posts_per_group": round((after.get("submissions", 0) -
                                     before.get("submissions", 0)) / commits, 1)}
    for k in COMMIT_METRICS:
        out[f"{k}_ms"] = round((after.get(k, 0) - before.get(k, 0)) * 1000 / commits, 2)
    return out


def load(port, token, connections, seconds, tag):
    before = writer_metrics(port)
    r = subprocess.run([LOAD, "--port", str(port), "--token", token, "--connections",
                        str(connections), "--seconds", str(seconds), "--kind", "appropriation",
                        "--fund", FUND, "--tag", tag], capture_output=True, text=True)
    fields = dict(re.findall(r"(\w+)=(\S+)", r.stdout))
    if "req_per_s" not in fields:
        sys.exit(f"cluster_bench: http_load failed: {r.stdout}{r.stderr}")
    out = {k: float(v) if re.fullmatch(r"[\d.]+", v) else v for k, v in fields.items()}
    out["groups"] = group_figures(before, writer_metrics(port))
    return out


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


def roll(port, tokens, csv, lines, run, on_prepared):
    """Seconds of the roll's upload (prepare) and of its approval, each one request, with
    `on_prepared()` called between them (not timed); run N pays the month ROLL_FIRST_MONTH + N
    as its own batch, so runs on one city do not collide."""
    batch = f"ROLL-BENCH-{run}"
    query = f"fund_id=F&period=2025-{ROLL_FIRST_MONTH + run:02d}&batch_id={batch}"
    start = time.monotonic()
    status, text = request(port, "POST", f"/v1/disbursement-batches?{query}",
                           tokens["maker"], csv, key=f"bench-roll-{run}", timeout_s=ROLL_WAIT_S,
                           content_type="text/csv")
    prepare_s = time.monotonic() - start
    if status != 201 or f'"lines":{lines}' not in text:
        sys.exit(f"cluster_bench: the roll's upload failed: {status} {text[:500]}")
    on_prepared()
    approve_start = time.monotonic()
    status, text = request(port, "POST", f"/v1/disbursement-batches/{batch}/approve",
                           tokens["checker"], json.dumps({"document": "bench"}),
                           key=f"bench-roll-approve-{run}", timeout_s=ROLL_WAIT_S)
    approve_s = time.monotonic() - approve_start
    if status != 201:
        sys.exit(f"cluster_bench: the roll's approval failed: {status} {text[:500]}")
    return {"lines": lines, "prepare_s": round(prepare_s, 2), "approve_s": round(approve_s, 2),
            "total_s": round(prepare_s + approve_s, 2)}


def profiled_roll(port, tokens, csv, lines, run, profile, side_pids, followers=()):
    """One roll at rest (after `settle(side_pids)`), with its profile by phase: prepare,
    approve and, in the cluster, until every follower holds it (replicate)."""
    settled_s, dirty_synced_mb = settle(side_pids)
    load_avg = os.getloadavg()[0]
    profile.mark("start")
    r = roll(port, tokens, csv, lines, run, lambda: profile.mark("prepared"))
    profile.mark("approved")
    r.update(run=run + 1, settled_s=settled_s, dirty_synced_mb=dirty_synced_mb,
             load_avg_1m=round(load_avg, 2))
    phases = {"prepare": ("start", "prepared"), "approve": ("prepared", "approved")}
    if followers:
        approved_at = time.monotonic()
        size = health(port)["applied_size"]
        if not wait_applied(followers, size):
            sys.exit("cluster_bench: the followers did not replicate the roll")
        r["replicated_s"] = round(r["total_s"] + time.monotonic() - approved_at, 2)
        profile.mark("replicated")
        phases["replicate"] = ("approved", "replicated")
    r["profile"] = {name: profile.phase(a, b) for name, (a, b) in phases.items()}
    print(f"cluster_bench: roll {r}", flush=True)
    return r


def roll_summary(embedded_rolls, cluster_rolls):
    """Each side's median roll and the ratio of the medians (embedded s / cluster s)."""
    e = round(statistics.median(r["total_s"] for r in embedded_rolls), 2)
    k = round(statistics.median(r["total_s"] for r in cluster_rolls), 2)
    return {"embedded_median_s": e, "cluster_median_s": k, "ratio": round(e / k, 2)}


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
    procs = read_processes()
    tree, grew = {p for p in pids if p in procs}, True
    while grew:
        children = {p for p, v in procs.items() if v[0] in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(procs[p][1] for p in tree)


# A process's group is the group of the root it descends from (a ledger node, a PostgreSQL
# postmaster, Patroni, etcd, the embedded server); a PostgreSQL process's, by its title too.
PG_TITLE_GROUPS = (("walsender", "pg walsenders"), ("walreceiver", "pg standby replay"),
                   ("startup", "pg standby replay"), ("checkpointer", "pg checkpointer+autovacuum"),
                   ("autovacuum", "pg checkpointer+autovacuum"),
                   ("background writer", "pg checkpointer+autovacuum"))
COMMIT_METRICS = ("commit", "commit_stage", "commit_record", "commit_store", "commit_answer")


def read_processes():
    """pid -> (ppid, CPU s, CPU s of its reaped children, title, bytes written to disk)."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline") as f:
                title = f.read().replace("\0", " ").strip()
        except OSError:
            continue
        try:  # another user's process: its I/O counters are not readable
            with open(f"/proc/{entry}/io") as f:
                written = int(re.search(r"^write_bytes: (\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            written = 0
        procs[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick,
                             (int(fields[13]) + int(fields[14])) / tick, title, written)
    return procs


def thread_cpu(pid):
    """CPU seconds of `pid`'s threads, summed by thread name."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def followers_thread_cpu(pids):
    """CPU seconds of the followers' threads, summed by thread name over the followers."""
    out = {}
    for pid in pids:
        for name, cpu in thread_cpu(pid).items():
            out[name] = out.get(name, 0) + cpu
    return out


def thread_deltas(a, b):
    """Each thread name's CPU seconds from snapshot a to b (those of 0.01 s and more)."""
    return {k: round(v - a.get(k, 0), 2) for k, v in sorted(b.items()) if v - a.get(k, 0) >= 0.01}


def process_counters(pid):
    """`pid`'s user and system CPU seconds and its minor and major page faults so far."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return {}
    return {"user_s": int(fields[11]) / tick, "system_s": int(fields[12]) / tick,
            "minor_faults": int(fields[7]), "major_faults": int(fields[9])}


def machine_cpu():
    """The machine's CPU seconds (all cores) so far: busy, iowait and steal (/proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        v = [int(x) / tick for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return {"busy": user + nice + system + irq + softirq, "iowait": iowait, "steal": steal}


def disk_written_bytes():
    """Bytes written to the machine's disks so far (/proc/diskstats, whole disks only)."""
    total = 0
    with open("/proc/diskstats") as f:
        for line in f:
            fields = line.split()
            if os.path.exists(f"/sys/block/{fields[2]}/device"):
                total += int(fields[9]) * 512
    return total


def writer_metrics(port):
    """The writer's commit counters (/metrics): seconds by phase, commits, entries."""
    status, text = request(port, "GET", "/metrics", timeout_s=5)
    out = {}
    for name, value in re.findall(r"^fundledger_(\w+?)(?:_seconds)?_total ([0-9.e+-]+)$", text,
                                  re.M):
        out[name] = float(value)
    return out


def pg_stats(dsn):
    """The primary's WAL position (bytes), checkpoints, buffers they wrote, and autovacuums and
    autoanalyzes of the log's tables so far."""
    query = ("select pg_current_wal_lsn() - '0/0', checkpoints_timed + checkpoints_req, "
             "buffers_checkpoint, (select coalesce(sum(autovacuum_count), 0) from "
             "pg_stat_user_tables), (select coalesce(sum(autoanalyze_count), 0) from "
             "pg_stat_user_tables) from pg_stat_bgwriter")
    r = subprocess.run(["psql", dsn, "-AtX", "-F", " ", "-c", query], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return None
    wal, checkpoints, buffers, vacuums, analyzes = (float(x) for x in r.stdout.split())
    return {"wal_bytes": wal, "checkpoints": checkpoints, "checkpoint_buffers": buffers,
            "autovacuums": vacuums, "autoanalyzes": analyzes}


class RollProfile:
    """Where a roll's time went: snapshots at its marks (start, prepared, approved, ...) of the
    writer's commit metrics and threads, every process's CPU and disk writes, the machine's CPU
    and, in the cluster, PostgreSQL's counters; `phase(a, b)` gives their deltas by group.

    `roots` maps a process id to its group ("writer", "followers", "patroni", "etcd", "server")
    or, for a postmaster, to "pg primary" / "pg standby"; every process descending from a root
    counts in its group."""

    def __init__(self, writer_port, writer_pid, roots, dsn=None):
        self.writer_port, self.writer_pid, self.roots, self.dsn = (writer_port, writer_pid, roots,
                                                                   dsn)
        self.follower_pids = [p for p, g in roots.items() if g == "followers"]
        self.marks = {}

    def mark(self, name):
        self.marks[name] = {"t": time.monotonic(), "procs": read_processes(),
                            "machine": machine_cpu(), "disk": disk_written_bytes(),
                            "metrics": writer_metrics(self.writer_port),
                            "threads": thread_cpu(self.writer_pid),
                            "follower_threads": followers_thread_cpu(self.follower_pids),
                            "writer": process_counters(self.writer_pid),
                            "pg": pg_stats(self.dsn) if self.dsn else None}

    def root_group(self, pid, procs):
        seen = set()
        while pid in procs and pid not in self.roots and pid not in seen:
            seen.add(pid)
            pid = procs[pid][0]
        return self.roots.get(pid)

    def process_group(self, pid, procs):
        root_group = self.root_group(pid, procs)
        if root_group is None or not root_group.startswith("pg "):
            return root_group
        title = procs[pid][3]
        for word, group in PG_TITLE_GROUPS:
            if word in title:
                return group
        if "(" in title or "[local]" in title:  # a client backend: "user db host(port) state"
            return f"{root_group} backends"
        return "pg other"  # the postmaster, walwriter, archiver (and its cp), logger

    def delta_by_group(self, a, b, field):
        """Each group's growth of process field `field` (1: CPU s, 4: bytes written) from
        snapshot a to b; a process born between them counts whole."""
        out = {}
        for pid, proc in b.items():
            g = self.process_group(pid, b)
            if g:
                before = a[pid][field] if pid in a and a[pid][0] == proc[0] else 0
                out[g] = out.get(g, 0) + proc[field] - before
        return out

    def cpu_by_group(self, a, b):
        """CPU seconds of each group between snapshots a and b; processes that ended between
        them count from their parent's reaped-children time, as "exited"."""
        out = self.delta_by_group(a, b, 1)
        for pid, (ppid, _, reaped, _, _) in b.items():
            if pid in a and self.process_group(pid, b):
                gone = sum(a[c][1] for c in a if a[c][0] == pid and c not in b)
                exited = reaped - a[pid][2] - gone
                if exited > 0:
                    key = f"exited, of {self.root_group(pid, b)}"
                    out[key] = out.get(key, 0) + exited
        return {g: round(v, 2) for g, v in sorted(out.items())}

    def written_by_group(self, a, b):
        return {g: round(v / 1e6, 1) for g, v in sorted(self.delta_by_group(a, b, 4).items())
                if v >= 1e5}

    def phase(self, first, last):
        a, b = self.marks[first], self.marks[last]
        cpu = self.cpu_by_group(a["procs"], b["procs"])
        machine = {k: round(b["machine"][k] - a["machine"][k], 2) for k in a["machine"]}
        machine["outside"] = round(machine["busy"] - sum(cpu.values()), 2)
        out = {"seconds": round(b["t"] - a["t"], 2), "cpu_s": cpu, "machine_cpu_s": machine,
               "written_mb": self.written_by_group(a["procs"], b["procs"]),
               "disk_written_mb": round((b["disk"] - a["disk"]) / 1e6, 1),
               "writer_commit_s": {k: round(b["metrics"].get(k, 0) - a["metrics"].get(k, 0), 3)
                                   for k in COMMIT_METRICS},
               "writer_process": {k: round(v - a["writer"].get(k, 0), 2)
                                  for k, v in b["writer"].items()},
               "writer_commits": b["metrics"].get("commits", 0) - a["metrics"].get("commits", 0),
               "writer_threads_s": thread_deltas(a["threads"], b["threads"])}
        if self.follower_pids:
            out["follower_threads_s"] = thread_deltas(a["follower_threads"],
                                                      b["follower_threads"])
        if a["pg"] and b["pg"]:
            out["postgres"] = {k: round(b["pg"][k] - a["pg"][k]) for k in a["pg"]}
            out["postgres"]["wal_mb"] = round(out["postgres"].pop("wal_bytes") / 1e6, 1)
        return out


def dirty_mb():
    """The machine's page cache waiting to be written (Dirty + Writeback in /proc/meminfo), MB."""
    with open("/proc/meminfo") as f:
        kb = {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f)}
    return round((kb["Dirty"] + kb["Writeback"]) / 1024, 1)


def settle(pids):
    """Writes the machine's dirty page cache out (sync), then waits until `pids` (with their
    descendants) use under SETTLE_IDLE_CPU for a second; (the seconds taken, SETTLE_WAIT_S at
    most, and the MB that were waiting to be written). The kernel writes dirty pages 30 s after
    they were made (vm.dirty_expire_centisecs): without the sync, a city loaded and replicated
    just before was written out in the middle of the next roll, ~1.3 GB, and slowed its fsyncs
    and page faults (the cluster's second roll in every run of 2026-12-07)."""
    start = time.monotonic()
    waiting_mb = dirty_mb()
    os.sync()
    before = process_tree_cpu(pids)
    while time.monotonic() - start < SETTLE_WAIT_S:
        time.sleep(1)
        now = process_tree_cpu(pids)
        if now - before < SETTLE_IDLE_CPU:
            break
        before = now
    return round(time.monotonic() - start, 1), waiting_mb


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


def embedded(work, connections, seconds, roll_lines, csv, roll_runs):
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
        posts_settled_s = settle([server.pid])[0] if connections else None
        posts = {c: load(port, token, c, seconds, f"embedded-{c}") for c in connections}
        profile = RollProfile(port, server.pid, {server.pid: "server"})
        rolls = [profiled_roll(port, tokens, csv, roll_lines, run, profile, [server.pid])
                 for run in range(roll_runs if roll_lines else 0)]
        return posts, rolls, posts_settled_s
    finally:
        server.terminate()
        server.wait(timeout=30)


def posts_lines(results):
    lines = ["| connections | embedded req/s | cluster req/s | cluster / embedded | embedded p50 / p99 ms | cluster p50 / p99 ms |",
             "|---|---|---|---|---|---|"]
    for c, e in results["embedded"].items():
        k = results["cluster"][c]
        lines.append(f"| {c} | {e['req_per_s']:.0f} | {k['req_per_s']:.0f} | "
                     f"{k['req_per_s'] / e['req_per_s']:.2f} | {e['p50_ms']:.2f} / {e['p99_ms']:.2f} | "
                     f"{k['p50_ms']:.2f} / {k['p99_ms']:.2f} |")
    lines += ["", "Commit groups during the posts (the writer's /metrics): groups, posts a group, "
              "and ms a group (commit: stage / record / store / answer):", "",
              "| connections | embedded groups | posts a group | ms a group | cluster groups | "
              "posts a group | ms a group |", "|---|---|---|---|---|---|---|"]
    for c, e in results["embedded"].items():
        cells = []
        for g in (e.get("groups", {}), results["cluster"][c].get("groups", {})):
            cells += [str(g.get("commits", "")), str(g.get("posts_per_group", "")),
                      f"{g['commit_ms']} ({g['commit_stage_ms']} / {g['commit_record_ms']} / "
                      f"{g['commit_store_ms']} / {g['commit_answer_ms']})" if g.get("commits")
                      else ""]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    settled = results["posts_settled_s"]
    return lines + ["", f"Before the posts each side was left until its processes were idle: "
                    f"the embedded server {settled['embedded']} s, the cluster "
                    f"{settled['cluster']} s."]


def summed(r, part, key=None):
    """A profile figure summed over the roll's prepare and approve phases."""
    phases = [r["profile"][p][part] for p in ("prepare", "approve")]
    if key is None:
        return round(sum(phases), 2)
    return round(sum(p.get(key, 0) for p in phases), 2)


def roll_run_line(side, r):
    c = {k: summed(r, "writer_commit_s", k) for k in COMMIT_METRICS}
    writer = summed(r, "cpu_s", "server" if side == "embedded" else "writer")
    side_cpu = round(sum(summed(r, "cpu_s", g) for g in r["profile"]["prepare"]["cpu_s"]), 2)
    faults = summed(r, "writer_process", "minor_faults")
    return (f"| {side} | {r['run']} | {r['load_avg_1m']} | {r['settled_s']} | "
            f"{r.get('dirty_synced_mb', '')} | {r['prepare_s']} | "
            f"{r['approve_s']} | {r['total_s']} | {r.get('replicated_s', '')} | {c['commit']} "
            f"({c['commit_stage']} / {c['commit_record']} / {c['commit_store']} / "
            f"{c['commit_answer']}) | {writer} ({summed(r, 'writer_process', 'system_s')}; "
            f"{faults / 1000:.0f}k) | {side_cpu} | "
            f"{summed(r, 'machine_cpu_s', 'outside')} | {summed(r, 'machine_cpu_s', 'steal')} | "
            f"{summed(r, 'machine_cpu_s', 'iowait')} |")


def cluster_cpu_lines(rolls):
    groups = sorted({g for r in rolls for p in ("prepare", "approve")
                     for g in r["profile"][p]["cpu_s"]})
    lines = ["| CPU s (prepare / approve) | " + " | ".join(f"run {r['run']}" for r in rolls) + " |",
             "|---|" + "---|" * len(rolls)]
    for g in groups:
        cells = [f"{summed(r, 'cpu_s', g)} ({r['profile']['prepare']['cpu_s'].get(g, 0)} / "
                 f"{r['profile']['approve']['cpu_s'].get(g, 0)})" for r in rolls]
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    lines += ["", "| over the roll | " + " | ".join(f"run {r['run']}" for r in rolls) + " |",
              "|---|" + "---|" * len(rolls)]
    for key, label in (("wal_mb", "PostgreSQL WAL MB"), ("checkpoints", "checkpoints"),
                       ("checkpoint_buffers", "buffers written by checkpoints"),
                       ("autovacuums", "autovacuums"), ("autoanalyzes", "autoanalyzes")):
        cells = [str(round(sum(r["profile"][p].get("postgres", {}).get(key, 0)
                               for p in ("prepare", "approve")), 1)) for r in rolls]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| disk written MB (machine) | " +
                 " | ".join(str(summed(r, "disk_written_mb")) for r in rolls) + " |")
    return lines


def roll_lines(results):
    e, k = results["embedded_rolls"], results["cluster_rolls"]
    m = results["roll"]
    lines = [f"The roll of {e[0]['lines']:,} lines (one upload, then its approval), {len(e)} runs "
             f"a side on one city (run N pays the next month), each after its side was idle "
             f"(the machine's dirty pages written out, then under {SETTLE_IDLE_CPU} CPU s a "
             f"second; settled s, and the MB that were waiting to be written):", "",
             "| side | run | load 1m | settled s | dirty MB synced | prepare s | approve s | total s | replicated s "
             "| writer commit s (stage / record / store / answer) | writer CPU s (system; page "
             "faults) | side CPU s "
             "| outside CPU s | steal s | iowait s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [roll_run_line("embedded", r) for r in e] + [roll_run_line("cluster", r) for r in k]
    lines += ["", f"Medians: embedded {m['embedded_median_s']} s, cluster {m['cluster_median_s']} s;"
              f" cluster / embedded for the roll (embedded median / cluster median): "
              f"{m['ratio']:.2f}.", "",
              "Writer CPU s is the writer node's (the embedded server's) CPU over prepare and "
              "approve; side CPU s all the side's processes' (ledger nodes, PostgreSQL, Patroni, "
              "etcd); outside CPU s the machine's other work in those seconds; steal and iowait "
              "are the machine's (both cores). The cluster's CPU by process group:", ""]
    return lines + cluster_cpu_lines(k)


def write_results(results, name):
    out = os.path.join(ROOT, "benchmarks", "results", name)
    with open(out + ".json", "w") as f:
        json.dump(results, f, indent=2)
    lines = ["# Cluster mode next to the embedded ledger", "",
             f"{results['date']}, {results['cores']} cores; posts: appropriations, "
             f"{results['seconds']} s per run.", ""]
    if results.get("cluster"):
        lines += posts_lines(results) + [""]
    if results.get("roll"):
        lines += roll_lines(results) + [""]
    c = results["catch_up"]
    lines += [f"Followers started empty caught up with the city's log of {c['entries']:,} "
              f"entries in {c['seconds']} s (from scripts/cluster up with nodes)."]
    if results.get("cluster"):
        lag = results["follower_lag"]
        lines += ["", f"Follower lag under the {lag['connections']}-connection load: at most "
                  f"{lag['max_entries']} entries, {lag['max_ms']} ms.", "",
                  f"Failover (kill -9 of the primary to the first acknowledged post): "
                  f"{results['failover_s']} s." if results["failover_s"] is not None else
                  "Failover: no post acknowledged within the wait."]
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines + [""]))
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


def cluster_roots(status, writer):
    """RollProfile's roots for the cluster: the writer node (listening on port `writer`) and
    the followers, each PostgreSQL postmaster by its member's role, Patroni and etcd."""
    roots = {n["pid"]: "writer" if n["url"].endswith(f":{writer}") else "followers"
             for n in status["nodes"] if n.get("pid")}
    roots.update({p["pid"]: f"pg {p['role']}" for p in status["postgres"] if p.get("pid")})
    roots.update({p["patroni_pid"]: "patroni" for p in status["postgres"]
                  if p.get("patroni_pid")})
    roots.update({e["pid"]: "etcd" for e in status.get("etcd", []) if e.get("pid")})
    return roots


def cluster_posts(cdir, status, port, followers, connections, seconds, results):
    token = status["tokens"]["admin"]
    open_fund(port, token)
    results["posts_settled_s"]["cluster"] = settle(cluster_pids(status))[0]
    results["cluster"] = {}
    for c in connections:
        sampler = LagSampler(followers) if c == max(connections) else None
        results["cluster"][c] = load(port, token, c, seconds, f"cluster-{c}")
        if sampler:
            sampler.finish()
            results["follower_lag"] = {"connections": c, "max_entries": sampler.max_entries,
                                       "max_ms": sampler.max_ms}
    t = failover(cdir, token)
    results["failover_s"] = None if t is None else round(t, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", default="1,8,64")
    parser.add_argument("--roll-lines", type=int, default=1_000_000,
                        help="lines of the roll, and people of the city (0: no roll)")
    parser.add_argument("--roll-runs", type=int, default=3,
                        help=f"rolls on each side, on one city (1-{ROLL_RUNS_MAX})")
    parser.add_argument("--roll-only", action="store_true",
                        help="the rolls and the catch-up only: no posts, no failover")
    parser.add_argument("--results", help="the results' name in benchmarks/results (without "
                        ".md/.json; default <date>-<host>-cluster)")
    args = parser.parse_args()
    if not 1 <= args.roll_runs <= ROLL_RUNS_MAX:
        sys.exit(f"cluster_bench: --roll-runs must be 1-{ROLL_RUNS_MAX}")
    connections = [] if args.roll_only else [int(c) for c in args.connections.split(",")]
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
        results["embedded"], results["embedded_rolls"], embedded_settled_s = embedded(
            work, connections, args.seconds, args.roll_lines, csv, args.roll_runs)
        results["posts_settled_s"] = {"embedded": embedded_settled_s}
        status, port, followers, results["catch_up"] = create_cluster(cdir, args.roll_lines)
        print(f"cluster_bench: catch-up {results['catch_up']}", flush=True)
        if args.roll_lines:
            profile = RollProfile(port, next(n["pid"] for n in status["nodes"]
                                             if n["url"].endswith(f":{port}")),
                                  cluster_roots(status, port), status["dsn"])
            results["cluster_rolls"] = [
                profiled_roll(port, status["tokens"], csv, args.roll_lines, run, profile,
                              cluster_pids(status), followers)
                for run in range(args.roll_runs)]
            results["roll"] = roll_summary(results["embedded_rolls"], results["cluster_rolls"])
        if connections:
            cluster_posts(cdir, status, port, followers, connections, args.seconds, results)
    finally:
        subprocess.run([CLUSTER, "down", cdir], stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", work])
    write_results(results, args.results or
                  f"{datetime.date.today().isoformat()}-{socket.gethostname()}-cluster")


if __name__ == "__main__":
    main()
