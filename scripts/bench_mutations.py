#!/usr/bin/env python3
"""Mutation round trip with read-your-writes, SQLite beside PostgreSQL in the same run.

Starts the release server twice on the demo county (`taizhang serve --demo`): once on a fresh
SQLite data directory, once on a fresh PostgreSQL database. Then sends N `reviseTarget` mutations (the county's completed-investment target)
one after the other, alternating between the two servers (so both see the same machine load), and
prints p50/p95/p99 of the round trip for each. A mutation's answer includes the read-your-writes
wait for the projections, so the round trip is append + projection + answer.

    cargo build --release -p taizhang
    scripts/bench_mutations.py [--binary target/release/taizhang] [--n 300]
        [--postgres postgres://postgres@127.0.0.1:5432]

Standard library only. Needs the local PostgreSQL (createdb/dropdb rights for the given user).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin(url, sql):
    """Runs `sql` on the server's `postgres` database (CREATE/DROP DATABASE)."""
    subprocess.run(["psql", f"{url}/postgres", "-qAtc", sql], check=True)


class Server:
    def __init__(self, name, binary, env, workdir):
        self.name = name
        self.port = free_port()
        self.log = open(os.path.join(workdir, f"{name}.log"), "w+")
        # The per-token rate limit (10 requests/s by default) would throttle a sequential client
        # whose mutations take milliseconds: lifted for the benchmark.
        full_env = dict(os.environ, RUST_LOG="warn", TAIZHANG_RATE_LIMIT="100000",
                        TAIZHANG_RATE_BURST="100000", **env)
        self.proc = subprocess.Popen(
            [binary, "serve", "--demo", "--listen", f"127.0.0.1:{self.port}"],
            env=full_env, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=workdir)
        self.token = None
        deadline = time.time() + 300
        lines = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"{name}: server exited: {''.join(lines)[-2000:]}")
            lines.append(line)
            m = re.search(r"Bearer (tz_[A-Za-z0-9_\-]+)", line)
            if m:
                self.token = m.group(1)
                break
        if not self.token:
            raise SystemExit(f"{name}: no token printed")

    def gql(self, query, variables=None):
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", data=body,
            headers={"Content-Type": "application/json",
                     "Accept": "application/graphql-response+json",
                     "Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


PROJECTS = "{ projects(first: 100) { nodes { id status } } }"
MUTATION = """mutation($input: TargetInput!) { reviseTarget(input: $input) { targets { metric } } }"""


def wait_until_projected(server):
    # The projections catch up with the seeded county after the banner: wait for the projects.
    for _ in range(600):
        nodes = server.gql(PROJECTS).get("data", {}).get("projects", {}).get("nodes", [])
        if len(nodes) >= 10:
            return
        time.sleep(0.5)
    raise SystemExit(f"{server.name}: the projects never showed")


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/taizhang")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    workdir = tempfile.mkdtemp(prefix="bench_mutations_")
    dbname = f"bench_mutations_{os.getpid()}"
    admin(args.postgres, f"CREATE DATABASE {dbname}")
    servers = []
    try:
        servers.append(Server("sqlite", binary, {"TAIZHANG_DATA_DIR": os.path.join(workdir, "data")}, workdir))
        servers.append(Server("postgresql", binary, {"DATABASE_URL": f"{args.postgres}/{dbname}"}, workdir))
        for s in servers:
            wait_until_projected(s)
        times = {s.name: [] for s in servers}
        errors = {s.name: 0 for s in servers}
        for i in range(args.n):
            for s in servers:
                # A county target revised again and again: admin may, and each is one event.
                variables = {"input": {
                    "idempotencyKey": str(uuid.uuid4()),
                    "year": int(time.strftime("%Y")),
                    "metric": "COMPLETED_INVESTMENT",
                    "value": str(1_000_000_000 + i),
                    "reason": f"benchmark revision {i}",
                }}
                started = time.perf_counter()
                answer = s.gql(MUTATION, variables)
                took = time.perf_counter() - started
                if answer.get("errors"):
                    errors[s.name] += 1
                    if errors[s.name] == 1:
                        print(f"{s.name}: {answer['errors']}", file=sys.stderr)
                    continue
                times[s.name].append(took * 1000)
        print(f"{args.n} sequential reviseTarget mutations per backend, alternating, "
              f"round trip incl. read-your-writes (ms):")
        print(f"{'backend':<12} {'ok':>5} {'err':>4} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'mean':>8}")
        for s in servers:
            t = times[s.name]
            if not t:
                print(f"{s.name:<12} no successful mutation")
                continue
            print(f"{s.name:<12} {len(t):>5} {errors[s.name]:>4} {pct(t, 50):>8.1f} {pct(t, 95):>8.1f} "
                  f"{pct(t, 99):>8.1f} {max(t):>8.1f} {statistics.mean(t):>8.1f}")
    finally:
        for s in servers:
            s.stop()
        admin(args.postgres, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
