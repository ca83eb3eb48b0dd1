#!/usr/bin/python3
"""plugd measured natively on this machine (no VM), headless on the simulated chip: where its
memory is (RSS by mapping, from /proc/PID/smaps), start -> READY=1, and CPU per 1000 presses.
Quick and repeatable enough to compare two builds in one run; the figures that compare plugd
with the Python baseline come from ./scripts/bench (the VM, gpio-sim).

  bench/native.py [--plugd PATH] [--presses 200] [--starts 5] [--maps]
  bench/native.py --plugd A --plugd B ...   (each measured in turn, starts interleaved)
"""
import argparse
import collections
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import plugharness  # noqa: E402


def smaps_by_mapping(pid):
    """{mapping name: Rss KiB}, private anonymous memory as [heap]/[anon]/[stack]."""
    out = collections.Counter()
    name = None
    for line in open(f"/proc/{pid}/smaps"):
        parts = line.split()
        if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 else "[anon]"
            name = os.path.basename(name) if name.startswith("/") else name
        elif parts[0] == "Rss:":
            out[name] += int(parts[1])
    return out


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class Run:
    def __init__(self, plugd, work):
        self.plugd, self.work = plugd, work
        self.sock = os.path.join(work, "control.sock")
        self.config = os.path.join(work, "plugd.toml")
        with open(self.config, "w") as f:
            f.write(plugharness.headless_config(self.sock).replace("write_delay_ms = 0", "write_delay_ms = 1000"))

    def start(self):
        notify = os.path.join(self.work, "notify.sock")
        if os.path.exists(notify):
            os.unlink(notify)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(notify)
        s.settimeout(30)
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        t0 = time.monotonic()
        self.proc = subprocess.Popen([self.plugd, "--simulate", "--headless", "--config", self.config,
                                      "--state-dir", os.path.join(self.work, "state")], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.work, "plugd.log"), "ab"))
        while b"READY=1" not in s.recv(4096).split(b"\n"):
            pass
        took = time.monotonic() - t0
        s.close()
        return took

    def press(self, n):
        """n presses (100 ms apart, as a person can), then waits for the last toggle to be seen."""
        before = plugharness.request(self.sock, {"command": "status"})["status"]["relay"]
        for i in range(n):
            for line in (b"press\n", b"release\n"):
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
                time.sleep(0.06)
        want = before if n % 2 == 0 else not before
        deadline = time.monotonic() + 10
        while plugharness.request(self.sock, {"command": "status"})["status"]["relay"] != want:
            if time.monotonic() > deadline:
                raise RuntimeError("the presses were not all seen")
            time.sleep(0.01)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugd", action="append")
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--maps", action="store_true", help="RSS of every mapping, not only the largest")
    a = ap.parse_args()
    plugds = a.plugd or [plugharness.PLUGD]
    results = {}
    with tempfile.TemporaryDirectory(prefix="plugd-native-") as tmp:
        runs = []
        for i, p in enumerate(plugds):
            work = os.path.join(tmp, str(i))
            os.makedirs(work)
            runs.append(Run(os.path.abspath(p), work))
        starts = {r.plugd: [] for r in runs}
        for _ in range(a.starts):
            for r in runs:
                starts[r.plugd].append(r.start())
                r.stop()
        for r in runs:
            r.start()
            c0 = cpu_s(r.proc.pid)
            r.press(a.presses)
            cpu = (cpu_s(r.proc.pid) - c0) * 1000 / a.presses
            maps = smaps_by_mapping(r.proc.pid)
            rss = sum(maps.values())
            r.stop()
            results[r.plugd] = (statistics.median(starts[r.plugd]), cpu, rss, maps)
    for p, (start, cpu, rss, maps) in results.items():
        size = os.path.getsize(p)
        print(f"{p}: {size / 1e6:.1f} MB on disk")
        print(f"  start -> READY=1 median {start * 1000:.1f} ms; CPU per 1000 presses {cpu:.2f} s; RSS {rss / 1024:.1f} MiB")
        shown = maps.most_common() if a.maps else maps.most_common(12)
        for name, kib in shown:
            if kib:
                print(f"    {kib:7d} KiB  {name}")


if __name__ == "__main__":
    main()
