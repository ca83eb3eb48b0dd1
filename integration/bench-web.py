#!/usr/bin/env python3
"""Figures for the web page's process (not a test): the release plugd-web beside the release
plugd (headless, simulated chip), natively, with plugd's own figures as the baseline of the same
run. Run by `./scripts/bench --web`; docs/benchmarks.md records one run.

    integration/bench-web.py [--bin .build/release] [--starts 10] [--idle 60]

Prints a Markdown table: resident memory of plugd and of plugd-web (after its first answer, with
one and eight pages open, the peak of a login), a cold start to the first answer (what a socket
activation costs the first visitor) against a cold `plugctl status`, and the wake-ups per minute
of both processes with a page open on an idle plug. With nobody browsing plugd-web is not
running: nothing to measure but that it exits."""
import argparse
import glob
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))


def wakeups(pid):
    """Context switches of every thread of `pid` so far (each is a wake-up or a preemption)."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(harness.ROOT, ".build", "release"))
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--idle", type=int, default=60)
    args = parser.parse_args()
    os.environ["PLUGD_BIN"] = args.bin
    harness.BIN = args.bin
    harness.PLUGD = os.path.join(args.bin, "plugd")
    import webharness
    webharness.PLUGD_WEB = os.path.join(args.bin, "plugd-web")
    webharness.PLUGCTL = os.path.join(args.bin, "plugctl")
    work = tempfile.mkdtemp(prefix="plugd-bench-web-")
    plug = harness.Plug(work)
    plug.start()
    plug.command("setup", name="bench")  # out of setup mode: a steady LED, so an idle plugd sleeps
    rows = []
    try:
        plugd_rss = status_kib(plug.proc.pid, "VmRSS")
        rows.append(("plugd (baseline): resident memory, idle", f"{plugd_rss / 1024:.1f} MiB"))
        web = webharness.Web(plug, work)
        web.set_password()

        # Cold starts: process start to the first answer of GET /api/status.
        starts = []
        for _ in range(args.starts):
            t0 = time.monotonic()
            web.start(timeout=10)  # polls GET /api/session until it answers
            status, _, _ = web.get("/api/status")
            starts.append((time.monotonic() - t0) * 1000)
            assert status == 200
            web.stop()
        ctl = []
        for _ in range(args.starts):
            t0 = time.monotonic()
            subprocess.run([webharness.PLUGCTL, "status", "--socket", plug.socket], capture_output=True, check=True)
            ctl.append((time.monotonic() - t0) * 1000)
        rows.append(("plugd-web: cold start to its first answers (process start, GET /api/session, GET /api/status)",
                     f"median {statistics.median(starts):.1f} ms, max {max(starts):.1f} ms ({args.starts} starts)"))
        rows.append(("plugctl status, cold (baseline: a process that asks plugd once)",
                     f"median {statistics.median(ctl):.1f} ms, max {max(ctl):.1f} ms"))

        web.start()
        web.get("/api/status")
        rows.append(("plugd-web: resident memory after its first answers", f"{status_kib(web.proc.pid, 'VmRSS') / 1024:.1f} MiB"))
        streams = []
        for i in range(8):
            s = socket.create_connection(("127.0.0.1", web.port))
            s.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n\r\n".encode())
            s.recv(4096)
            streams.append(s)
            if i == 0:
                time.sleep(0.2)
                rows.append(("plugd-web: with one page open (its event stream)", f"{status_kib(web.proc.pid, 'VmRSS') / 1024:.1f} MiB"))
        time.sleep(0.2)
        rows.append(("plugd-web: with eight pages open", f"{status_kib(web.proc.pid, 'VmRSS') / 1024:.1f} MiB, "
                     f"{len(os.listdir(f'/proc/{web.proc.pid}/task'))} threads"))
        for s in streams[1:]:
            s.close()
        before = status_kib(web.proc.pid, "VmHWM")
        t0 = time.monotonic()
        web.login()
        login_ms = (time.monotonic() - t0) * 1000
        rows.append(("plugd-web: a login (Argon2id, 16 MiB, 3 passes)",
                     f"{login_ms:.0f} ms; peak resident {status_kib(web.proc.pid, 'VmHWM') / 1024:.1f} MiB "
                     f"(before: {before / 1024:.1f} MiB), after: {status_kib(web.proc.pid, 'VmRSS') / 1024:.1f} MiB"))
        rows.append(("plugd: resident memory with eight pages having watched it", f"{status_kib(plug.proc.pid, 'VmRSS') / 1024:.1f} MiB"))

        # Wake-ups of an idle plug with no page open (the baseline), then with one open.
        time.sleep(1)
        p0 = wakeups(plug.proc.pid)
        time.sleep(args.idle / 2)
        alone = (wakeups(plug.proc.pid) - p0) * 60 / (args.idle / 2)
        rows.append((f"wake-ups per minute of plugd, idle, no page open ({args.idle // 2} s; baseline)", f"{alone:.0f}"))
        w0, p0 = wakeups(web.proc.pid), wakeups(plug.proc.pid)
        time.sleep(args.idle)
        w1, p1 = wakeups(web.proc.pid), wakeups(plug.proc.pid)
        per_minute = lambda a, b: (b - a) * 60 / args.idle  # noqa: E731
        rows.append((f"wake-ups per minute, one page open, plug idle ({args.idle} s)",
                     f"plugd-web {per_minute(w0, w1):.0f}, plugd {per_minute(p0, p1):.0f}"))
        streams[0].close()
        web.stop()

        # Nobody browsing: with --idle-exit it is gone.
        idle = webharness.Web(plug, work, idle_exit=2)
        idle.start()
        t0 = time.monotonic()
        idle.proc.wait(timeout=30)
        rows.append(("nobody browsing (--idle-exit 2 here; the unit's is 120 s)",
                     f"plugd-web exited {time.monotonic() - t0:.1f} s after its last connection: 0 processes, 0 memory, 0 wake-ups"))
    finally:
        plug.stop()
    print("| figure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
