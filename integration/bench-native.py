#!/usr/bin/python3
"""plugd measured natively on this machine (no VM), headless on the simulated chip: where its
memory is (RSS by mapping, from /proc/PID/smaps), start -> READY=1, and CPU per 1000 presses.
Quick and repeatable enough to compare two builds in one run; the figures that compare plugd
with the Python baseline come from ./scripts/bench (the VM, gpio-sim).

  integration/bench-native.py [--plugd PATH] [--presses 200] [--starts 5] [--maps]
  integration/bench-native.py --plugd A --plugd B ...   (each measured in turn, starts interleaved)
  integration/bench-native.py --callgrind [--presses 200]   instructions per start and per press (valgrind's
                                               callgrind: exact counts, whatever the machine is
                                               doing), and the functions that cost the most
"""
import argparse
import collections
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import harness


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
            f.write(harness.headless_config(self.sock).replace("write_delay_ms = 0", "write_delay_ms = 1000"))

    def start(self, wrapper=(), journal=False):
        notify = os.path.join(self.work, "notify.sock")
        self.notify = harness.NotifySocket(notify, timeout=120)
        env = dict(os.environ, NOTIFY_SOCKET=notify)
        log = os.path.join(self.work, "plugd.log")
        open(log, "ab").close()
        if journal:   # stderr "is" the journal: plugd sends native entries (sd_journal_sendv)
            st = os.stat(log)
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        t0 = time.monotonic()
        self.proc = subprocess.Popen([*wrapper, self.plugd, "--simulate", "--headless", "--config", self.config,
                                      "--state-dir", os.path.join(self.work, "state")], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=open(log, "ab"))
        return self.notify.wait_ready(t0)   # the socket stays open while plugd runs

    def press(self, n, hold=0.06):
        """n presses (held `hold` seconds, as long apart), then waits for the last toggle to be seen."""
        before = harness.request(self.sock, {"command": "status"})["status"]["relay"]
        for i in range(n):
            for line in (b"press\n", b"release\n"):
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
                time.sleep(hold)
        want = before if n % 2 == 0 else not before
        deadline = time.monotonic() + 60
        while harness.request(self.sock, {"command": "status"})["status"]["relay"] != want:
            if time.monotonic() > deadline:
                raise RuntimeError("the presses were not all seen")
            time.sleep(0.01)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.notify.close()


JOURNAL = "/run/systemd/journal/socket"


class FakeJournal:
    """journald's native socket, where this machine has none: a thread takes the datagrams and
    counts them, so sd_journal_sendv does its whole work (for --callgrind --journal)."""

    def __init__(self):
        if os.path.exists(JOURNAL):
            sys.exit(f"{JOURNAL} exists: a real journald runs here; measure without --journal")
        os.makedirs(os.path.dirname(JOURNAL), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(JOURNAL)
        self.entries = 0
        threading.Thread(target=self._take, daemon=True).start()

    def _take(self):
        while True:
            try:
                self.sock.recv(1 << 16)
            except OSError:
                return
            self.entries += 1

    def close(self):
        self.sock.close()
        os.unlink(JOURNAL)
        for d in ("/run/systemd/journal", "/run/systemd"):
            try:
                os.rmdir(d)
            except OSError:
                break


def callgrind(plugd, presses, work, journal=False):
    """Instructions (callgrind's Ir) of a run that starts, takes `presses` presses and stops,
    minus one that only starts and stops: per start, per press, and the top functions of the
    press run by their own cost (exclusive). With `journal`, entries go to a journal socket and
    the cost of one (sd_journal_sendv, inclusive) is reported too."""
    fake = FakeJournal() if journal else None
    try:
        callgrind_runs(plugd, presses, work, fake)
    finally:
        if fake:
            fake.close()


def callgrind_runs(plugd, presses, work, journal):
    # valgrind 3.19 (Debian 12) cannot read the DWARF 5 of Swift's static runtime: a copy
    # without debug information, named by its symbols.
    plugd_copy = os.path.join(work, "plugd")
    subprocess.run(["objcopy", "--strip-debug", plugd, plugd_copy], check=True)
    totals = {}
    for n in (0, presses):
        out = os.path.join(work, f"callgrind.{n}")
        os.makedirs(os.path.join(work, f"cg{n}"))
        r = Run(plugd_copy, os.path.join(work, f"cg{n}"))
        entries = journal.entries if journal else 0
        r.start(wrapper=("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"), journal=journal is not None)
        if n:
            r.press(n, hold=0.2)   # valgrind runs plugd some 50 times slower
        r.stop()
        if journal and n:
            time.sleep(0.5)
            inclusive = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                                       capture_output=True, text=True).stdout
            send = next((int(line.split()[0].replace(",", "")) for line in inclusive.splitlines()
                         if re.search(r"[:\s]sd_journal_sendv(\s|$)", line)), None)
            count = journal.entries - entries
            if send and count:
                print(f"journal: {count} entries in the press run, {send // count:,} instructions each (sd_journal_sendv, inclusive)")
        summary = subprocess.run(["callgrind_annotate", "--threshold=100", out], capture_output=True, text=True).stdout
        total = next(int(line.split()[0].replace(",", "")) for line in summary.splitlines() if "PROGRAM TOTALS" in line)
        totals[n] = (total, summary)
    start, pressed = totals[0][0], totals[presses][0]
    per_press = (pressed - start) // presses
    print(f"{plugd}: {start:,} instructions to start and stop; {per_press:,} per press ({presses} presses)")
    for title, counts in (("a start (and stop)", functions(totals[0][1])),
                          ("a press (the press run minus the start run, per press)",
                           {k: (v - functions(totals[0][1]).get(k, 0)) / presses for k, v in functions(totals[presses][1]).items()})):
        whole = start if title.startswith("a start") else per_press
        print(f"  largest costs of {title}, exclusive:")
        for name, count in sorted(counts.items(), key=lambda kv: -kv[1])[:12]:
            print(f"    {count * 100 / whole:5.1f} %  {count:>12,.0f}  {name[:100]}")


def functions(annotated):
    """{function: exclusive instructions} from callgrind_annotate's output."""
    out = {}
    for line in annotated.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*?)(?: \[.*\])?$", line)
        if m and ":" in m.group(2) and "PROGRAM TOTALS" not in line:
            name = m.group(2).split(":", 1)[1] if m.group(2).startswith(("???", ".", "/")) else m.group(2)
            out[name] = out.get(name, 0) + int(m.group(1).replace(",", ""))
    return out


def swift_module(symbol):
    """The module a symbol's code belongs to, from its name: Swift's mangling ($s + length +
    module; $ss is the standard library), C++ (toml++ and the Swift runtime), C."""
    if symbol.startswith("$ss") or symbol.startswith("$sS"):
        return "Swift (stdlib)"
    m = re.match(r"\$s(\d+)", symbol)
    if m:
        n = int(m.group(1))
        start = 2 + len(m.group(1))
        return symbol[start:start + n]
    if symbol.startswith("_ZN4toml") or "toml" in symbol:
        return "toml++ (C++)"
    if symbol.startswith(("swift_", "_ZN5swift", "_swift")):
        return "Swift runtime"
    if symbol.startswith("_Z"):
        return "other C++"
    return "C and other"


def resident_code(pid, binary):
    """{group: resident KiB} of the executable's own mapping: every page present in the process's
    page table (/proc/PID/pagemap), each attributed to the module whose symbols cover most of it,
    or to its section (.rodata, .eh_frame ...) where no symbol does."""
    import bisect
    import struct

    real = os.path.realpath(binary)
    base = None
    ranges = []
    for line in open(f"/proc/{pid}/maps"):
        parts = line.split()
        if len(parts) > 5 and os.path.realpath(parts[5]) == real:
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            off = int(parts[2], 16)
            if off == 0:
                base = lo
            ranges.append((lo, hi))
    sections = []
    for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True).stdout.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and int(m.group(2), 16):
            sections.append((int(m.group(2), 16), int(m.group(2), 16) + int(m.group(3), 16), m.group(1)))
    symbols = []
    nm = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTrRdDbBwWvV":
            symbols.append((int(parts[0], 16), int(parts[1], 16), swift_module(parts[3])))
    symbols.sort()
    starts = [s[0] for s in symbols]
    out = collections.Counter()
    page = os.sysconf("SC_PAGE_SIZE")
    with open(f"/proc/{pid}/pagemap", "rb") as pm:
        for lo, hi in ranges:
            for addr in range(lo, hi, page):
                pm.seek(addr // page * 8)
                entry = struct.unpack("<Q", pm.read(8))[0]
                if not entry >> 63 & 1:
                    continue
                v0 = addr - base
                cover = collections.Counter()
                i = max(0, bisect.bisect_right(starts, v0) - 1)
                while i < len(symbols) and symbols[i][0] < v0 + page:
                    a, size, group = symbols[i]
                    overlap = min(a + size, v0 + page) - max(a, v0)
                    if overlap > 0:
                        cover[group] += overlap
                    i += 1
                if cover:
                    out[cover.most_common(1)[0][0]] += page // 1024
                else:
                    name = next((n for a, b, n in sections if a <= v0 < b), "(headers, relocations)")
                    out[name] += page // 1024
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugd", action="append")
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--maps", action="store_true", help="RSS of every mapping, not only the largest")
    ap.add_argument("--code", action="store_true", help="plugd's own mapping's resident pages by module (Swift, toml++, ...)")
    ap.add_argument("--callgrind", action="store_true", help="instructions per start and per press")
    ap.add_argument("--journal", action="store_true", help="with --callgrind: log to a journal socket, as under systemd")
    a = ap.parse_args()
    plugds = a.plugd or [harness.PLUGD]
    if a.callgrind:
        for p in plugds:
            with tempfile.TemporaryDirectory(prefix="plugd-callgrind-") as tmp:
                callgrind(os.path.abspath(p), a.presses, tmp, a.journal)
        return
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
            code = resident_code(r.proc.pid, r.plugd) if a.code else None
            r.stop()
            results[r.plugd] = (statistics.median(starts[r.plugd]), cpu, rss, maps, code)
    for p, (start, cpu, rss, maps, code) in results.items():
        size = os.path.getsize(p)
        print(f"{p}: {size / 1e6:.1f} MB on disk")
        print(f"  start -> READY=1 median {start * 1000:.1f} ms; CPU per 1000 presses {cpu:.2f} s; RSS {rss / 1024:.1f} MiB")
        shown = maps.most_common() if a.maps else maps.most_common(12)
        for name, kib in shown:
            if kib:
                print(f"    {kib:7d} KiB  {name}")
        if code:
            print(f"  {os.path.basename(p)}'s own mapping, resident, by what the pages hold ({sum(code.values())} KiB):")
            for name, kib in code.most_common():
                print(f"    {kib:7d} KiB  {name}")


if __name__ == "__main__":
    main()
