#!/usr/bin/env python3
"""Power-cut campaign: plugd's state directory on ext4 on a real block device, cut the way an SD
card loses power, and started again on what reached the disk.

Runs as root inside the VM, on the virtio disk vm/run-in-vm attaches (VM_DISK):

    VM_DISK=3G ./vm/run-in-vm integration/power-cut.py [--points 500] [--workers 3] [--seed N]
    VM_DISK=3G ./vm/run-in-vm integration/power-cut.py --skip-fsync directory --expect-loss \
        --ops toggle,setup --write-delays 0
    VM_DISK=1G ./vm/run-in-vm integration/power-cut.py --wear

The method is xfstests' dm-flakey one (`_flakey_drop_and_remount`): each worker has its own
1 GiB slice of the disk under a dm-flakey device, formatted by mkfs.ext4 with Debian's defaults
and mounted `noatime` (Raspberry Pi OS's fstab; data=ordered, commit=5, auto_da_alloc: the
kernel's defaults). A point: plugd is started, a command is sent, and at a random instant while
it runs (or, for a third of the points, just after its reply) the device's table is swapped (`dmsetup suspend --nolockfs`, `resume`) for one that
silently drops every write: from then on nothing reaches the disk, whatever the page cache holds,
as after a power cut. plugd is killed, the filesystem unmounted, the normal table put back, and
the disk is mounted (ext4 replays its journal), looked at, unmounted, checked by `e2fsck -fn`,
mounted again, and plugd started on it. That start is where the point is judged:

- plugd starts and answers (it never crash-loops) and the filesystem checks clean;
- on the disk: state.json is the old state or the new one (never empty, never torn), or a
  factory reset's marker is there; never no state and no marker;
- after the start: the state is the old or the new one, or a completed factory reset (a new
  identity, default name, not registered, relay off) only if a reset was sent; the identity
  changes only with a reset; the relay's remembered level is one that was really set; a
  command acknowledged before the cut is never lost (with write_delay_ms = 0; with the default
  coalescing, the reply comes before the write, so either is right); no temp file or marker
  is left.

Workload: on, off, toggle, setup (rename), reset (setup mode), factory-reset, deregister, each
point with write_delay_ms 0 or the default (1000). `--skip-fsync file|directory` loads
skip-fsync.so (built here from skip-fsync.c) into plugd, so the save skips the fsync before the
rename or the directory fsync after it; with `--expect-loss` the run succeeds only if the campaign
then reports corruption or loss. `--wear` measures the disk's writes (/sys/block/vda/stat) per
toggle with the default coalescing, and when idle.

Prints what it counted and a closing line "N passed, N failed" (one check per point)."""
import argparse
import ctypes
import fcntl
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from harness import ROOT, Plug, TimedRequest, expected_after, is_fresh, persisted

WRITE_OPS = ["on", "off", "toggle", "setup", "reset"]
RESET_OPS = ["factory-reset", "deregister"]
DEVICE = "/dev/vda"
SLICE = 2 * 1024 * 1024  # sectors: 1 GiB, mkfs.ext4's "default" type (4 KiB blocks), as a Pi's root
DEFAULT_DELAY = 1000     # state.write_delay_ms's default (config/plugd.toml, docs/behaviour.md)
ENV = dict(os.environ, DM_DISABLE_UDEV="1")  # no udev in the VM's plain shell: dmsetup makes nodes


LIBC = ctypes.CDLL(None, use_errno=True)
MOUNT_FLAGS = {"noatime": 1024, "relatime": 1 << 21, "sync": 16, "dirsync": 128}  # MS_*
BLKFLSBUF = 0x1261   # _IO(0x12, 97): write back and forget a block device's cached blocks


def libc(name, *argv):
    """mount(2)/umount(2) called directly: each point mounts twice and unmounts twice, and a
    process started under emulation costs a tenth of a second."""
    if getattr(LIBC, name)(*argv) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{name}{argv}: {os.strerror(e)}")


def run(*cmd, check=True):
    p = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stdout.strip()}")
    return p


def from_file(data):
    """harness.persisted's fields from the bytes of a state file, or None if they are not one."""
    try:
        j = json.loads(data)
        return (j["identity"].lower(), j["name"], j["registered"], "on" if j["relayOn"] else "off")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def configure(plug, delay):
    """Sets the plug's state.write_delay_ms (harness.Plug's config has 0) for its next start."""
    with open(plug.config) as f:
        lines = f.read().split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith("write_delay_ms = ")]
    if len(at) != 1:
        raise RuntimeError("the config has no single write_delay_ms line: update integration/power-cut.py")
    lines[at[0]] = f"write_delay_ms = {delay}"
    with open(plug.config, "w") as f:
        f.write("\n".join(lines))


class Disk:
    """One dm-flakey device over a slice of the VM's disk, with ext4 on it, mounted."""

    def __init__(self, k, mount_options):
        self.name = f"plugcut{k}"
        self.dev = f"/dev/mapper/{self.name}"
        self.mnt = f"/mnt/{self.name}"
        self.options = mount_options
        self.up = f"0 {SLICE} flakey {DEVICE} {k * SLICE} 180 0"
        self.drop = f"0 {SLICE} flakey {DEVICE} {k * SLICE} 0 180 1 drop_writes"
        run("dmsetup", "remove", self.name, check=False)
        run("dmsetup", "create", self.name, "--table", self.up)
        # Debian's defaults from /etc/mke2fs.conf; the inode tables and journal written now, so
        # that no background initialisation (ext4lazyinit) writes while the plug is measured.
        run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", self.dev)
        os.makedirs(self.mnt, exist_ok=True)
        self.mount()

    def mount(self):
        opts = self.options.split(",")
        flags = sum(MOUNT_FLAGS.get(o, 0) for o in opts)
        data = ",".join(o for o in opts if o not in MOUNT_FLAGS and o != "defaults")
        libc("mount", self.dev.encode(), self.mnt.encode(), b"ext4", ctypes.c_ulong(flags), data.encode())

    def umount(self):
        for _ in range(100):   # another worker's fork may hold a file of this one for an instant
            try:
                return libc("umount", self.mnt.encode())
            except OSError as e:
                if e.errno != 16:   # EBUSY
                    raise
                time.sleep(0.05)
        libc("umount", self.mnt.encode())

    def arm(self):
        """Loads the write-dropping table; it takes over at `suspend()` (in force after `resume()`)."""
        run("dmsetup", "load", self.name, "--table", self.drop)

    def suspend(self):
        """The power cut: once the device is suspended, no write reaches the disk (the next to
        come go to the table `arm()` loaded). Suspending without freezing the filesystem
        (--nolockfs) lets the writes already sent finish, and flushes nothing."""
        run("dmsetup", "suspend", "--nolockfs", self.name)

    def resume(self):
        run("dmsetup", "resume", "--nolockfs", self.name)

    def restore(self):
        """After the cut: what the page cache held is forgotten, the device writes again."""
        self.umount()
        fd = os.open(self.dev, os.O_RDONLY)
        try:
            fcntl.ioctl(fd, BLKFLSBUF)
        finally:
            os.close(fd)
        run("dmsetup", "load", self.name, "--table", self.up)
        run("dmsetup", "resume", self.name)

    def fsck(self):
        p = run("e2fsck", "-fn", self.dev, check=False)
        return p.returncode, p.stdout

    def remove(self):
        try:
            self.umount()
        except OSError:
            pass
        run("dmsetup", "remove", self.name, check=False)


class Worker(threading.Thread):
    def __init__(self, k, points, args, counts, failures, lock):
        super().__init__(name=f"worker {k}")
        self.k, self.points, self.args = k, points, args
        self.counts, self.failures, self.lock = counts, failures, lock
        self.rng = random.Random(args.seed * 1000 + k)
        # Seconds a command takes, from replies before the campaign (during it, most replies
        # never come: learning from those that do would favour the quick ones).
        self.latency = {"write": [0.02], "reset": [0.05]}
        self.cut_lag = [0.05]   # seconds from starting dmsetup suspend to its return

    def phase(self, name, t0):
        self.count("time " + name, time.monotonic() - t0)

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def fail(self, text):
        with self.lock:
            self.failures.append(f"worker {self.k}: {text}")

    def run(self):
        try:
            self.campaign()
        except Exception as e:   # a failure of the harness itself is a failed run, said once
            self.fail(f"stopped: {e!r}")
            self.count("failed", self.points - self.counts.get(f"done{self.k}", 0))

    def campaign(self):
        args = self.args
        disk = Disk(self.k, args.mount_options)
        work = tempfile.mkdtemp(prefix=f"plugd-cut{self.k}-")
        wrapper = ()
        if args.skip_fsync:
            wrapper = ("env", f"LD_PRELOAD={args.shim}", f"PLUGD_SKIP_FSYNC={args.skip_fsync}")
        plug = Plug(work, wrapper=wrapper)
        plug.state_dir = os.path.join(disk.mnt, "state")
        delay = self.rng.choice(self.args.write_delays)
        configure(plug, delay)
        before = persisted(plug.start(timeout=60, interval=0.02))
        # How long commands take here (under emulation, with the other workers running): a few
        # of each kind, with no cut, so that the cuts are spread over the commands from the start.
        for op in ["factory-reset", "factory-reset", "toggle", "setup", "toggle", "toggle"]:
            deadline = time.monotonic() + 30
            while True:   # a factory reset refuses commands while it shows on the LED
                t0 = time.monotonic()
                r = plug.command(op, **({"name": "calibration"} if op == "setup" else {}))
                if r.get("ok") or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            if r.get("ok"):
                self.latency["reset" if op in RESET_OPS else "write"].append(time.monotonic() - t0)
        before = persisted(plug.status())
        for i in range(self.points):
            op = self.rng.choice(self.args.ops)
            name = f"plug-{self.k}-{i}" if op == "setup" else None
            kind = "reset" if op in RESET_OPS else "write"
            self.count(f"op {op}")
            self.count(f"delay {delay}")
            point_delay = delay   # (`delay` becomes the next point's before this one is judged)

            # Where the disk stops, counted from sending the command: mostly while plugd carries
            # it out (with the coalescing delay, around the instant the delayed write is made),
            # else within half a second after the reply, where what was acknowledged must be on the
            # disk. dmsetup takes a while to suspend the device, so it is started that much
            # earlier (before the command, if need be).
            typical = statistics.median(self.latency[kind])
            lag = statistics.median(self.cut_lag[-30:])
            draw = self.rng.random()
            if delay and kind == "write" and draw < 0.8:
                wait = delay / 1000 * self.rng.uniform(0.9, 1.0) + self.rng.uniform(0, 2 * typical)
            elif draw < 0.7:
                wait = self.rng.uniform(0, typical + lag)
            else:
                wait = typical + lag + self.rng.uniform(0, 0.5)
            lead = wait - lag
            disk.arm()
            t0 = time.monotonic()
            sender = TimedRequest(plug.socket, op, name, timeout=30, delay=max(0.0, -lead))
            sender.start()
            time.sleep(max(0.0, lead))
            t_cut = time.monotonic()
            disk.suspend()
            self.cut_lag.append(time.monotonic() - t_cut)
            disk.resume()
            plug.kill9()
            sender.join()
            self.phase("command and cut", t0)
            r = sender.reply
            acked = r is not None and r.get("ok") and sender.at < t_cut
            new = persisted(r["status"]) if r is not None and r.get("ok") else expected_after(op, name, before)
            if r is not None and not r.get("ok"):
                self.count("refused")
                allowed, fresh_ok = [before], False
            elif acked and (delay == 0 or kind == "reset"):
                self.count("cut after the reply")
                allowed, fresh_ok = [new], False
            else:
                self.count("cut after the reply" if acked else "cut before the reply")
                allowed = [before] + ([new] if new else [])
                fresh_ok = op in RESET_OPS
            problems = []

            t0 = time.monotonic()
            disk.restore()
            disk.mount()
            problems += self.inspect(plug.state_dir, before, allowed, fresh_ok)
            disk.umount()
            rc, out = disk.fsck()
            self.count("fsck clean" if rc == 0 else "fsck NOT clean")
            if rc != 0:
                problems.append(f"e2fsck -fn exit {rc}: {out.strip()[-300:]}")
            disk.mount()
            self.phase("remount and e2fsck", t0)

            # The next point's write delay, then the start that judges this point.
            delay = self.rng.choice(self.args.write_delays)
            configure(plug, delay)
            log_mark = os.path.getsize(plug.log)
            t0 = time.monotonic()
            try:
                now = persisted(plug.start(timeout=60, interval=0.02))
            except RuntimeError as e:
                self.fail(f"point {i} ({op}): plugd did not start: {e}")
                self.count("failed", self.points - i)
                return
            self.phase("plugd start", t0)
            with open(plug.log, errors="replace") as f:
                f.seek(log_mark)
                new_log = f.read()
            # (a corrupt file plugd set aside stays for the admin: reported once, below)
            leftovers = [n for n in os.listdir(plug.state_dir) if n in (".state.json.tmp", "reset-pending")]
            if leftovers:
                problems.append(f"left in the state directory after the start: {leftovers}")
            if "PLUG_EVENT=state_corrupt" in new_log:
                problems.append("plugd found the state file corrupt")
            fresh = op in RESET_OPS and is_fresh(now, before) and (fresh_ok or now in allowed)
            if now in allowed and now == before:
                self.count("started with: the old state")
            elif fresh:
                self.count("started with: a completed factory reset")
            elif now in allowed:
                self.count("started with: the new state")
            else:
                lost = acked and now == before
                problems.append(f"state {now} is not the old {before}" + (f" nor an allowed new {allowed[1:] or allowed}"
                                if allowed != [before] else "") + (" (acknowledged before the cut: lost)" if lost else "")
                                + (" (identity changed without a reset)" if now[0] != before[0] and op not in RESET_OPS else ""))
            if problems:
                self.count("failed")
                self.fail(f"point {i} ({op}, write_delay_ms {point_delay}, cut {wait * 1000:.0f} ms after sending): "
                          + "; ".join(problems))
            else:
                self.count("passed")
            self.count(f"done{self.k}")
            before = now
        if self.args.skip_fsync and plug.logged("skip-fsync: skipping"):
            self.count("workers whose plugd skipped an fsync")
        plug.kill9()
        disk.remove()

    def inspect(self, state_dir, before, allowed, fresh_ok):
        """The state directory as the cut left it, before plugd sees it."""
        names = set(os.listdir(state_dir)) if os.path.isdir(state_dir) else set()
        self.count("on disk: temp file present", ".state.json.tmp" in names)
        marker = "reset-pending" in names
        if "state.json" not in names:
            if marker:
                self.count("on disk: a factory reset begun (marker), no state")
                return []
            self.count("on disk: NO state and no marker")
            return [f"no state file and no reset marker on the disk ({sorted(names)})"]
        with open(os.path.join(state_dir, "state.json"), "rb") as f:
            data = f.read()
        view = from_file(data) if data else None
        if not data:
            self.count("on disk: EMPTY state file")
            return ["the state file on the disk is empty"]
        if view is None:
            self.count("on disk: TORN state file")
            return [f"the state file on the disk is not a state ({data[:80]!r})"]
        if marker:
            self.count("on disk: a factory reset begun (marker)")
        elif view == before:
            self.count("on disk: the old state")
        elif is_fresh(view, before) and (fresh_ok or view in allowed):
            self.count("on disk: a completed factory reset")
        elif view in allowed:
            self.count("on disk: the new state")
        else:
            self.count("on disk: OTHER state")
            return [f"the state file on the disk is {view}, neither the old {before} nor an allowed new one"]
        return []


def campaign(args):
    size = int(run("blockdev", "--getsz", DEVICE).stdout)
    workers = max(1, min(args.workers, size // SLICE))
    print(f"power-cut: {args.points} crash points, seed {args.seed}, {workers} workers, ext4 mounted "
          f"{args.mount_options} on dm-flakey over {DEVICE}"
          + (f"; plugd's save skips the fsync of the {args.skip_fsync} (skip-fsync.so)" if args.skip_fsync else ""),
          flush=True)
    counts, failures, lock = {}, [], threading.Lock()
    share = [args.points // workers + (k < args.points % workers) for k in range(workers)]
    t0 = time.monotonic()
    ws = [Worker(k, share[k], args, counts, failures, lock) for k in range(workers)]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    elapsed = time.monotonic() - t0

    def c(key):
        return counts.get(key, 0)
    print("  commands: " + ", ".join(f"{op} {c('op ' + op)}" for op in WRITE_OPS + RESET_OPS))
    print("  write_delay_ms: " + ", ".join(f"{d} for {c(f'delay {d}')} points" for d in args.write_delays))
    print(f"  the cut came: before the reply {c('cut before the reply')}, after it {c('cut after the reply')};"
          f" refused (a reset running) {c('refused')}")
    print("  on the disk after the cut: " + ", ".join(f"{k[9:]} {v}" for k, v in sorted(counts.items())
                                                       if k.startswith("on disk: ")))
    print("  after plugd started: " + ", ".join(f"{k[14:]} {v}" for k, v in sorted(counts.items())
                                                 if k.startswith("started with: ")))
    print(f"  e2fsck -fn: {c('fsck clean')} clean, {c('fsck NOT clean')} not clean; campaign {elapsed:.0f} s"
          f" ({elapsed / max(1, args.points):.2f} s a point)")
    print("  time a point, each worker: " + ", ".join(f"{k[5:]} {v / max(1, args.points):.2f} s"
                                                      for k, v in counts.items() if k.startswith("time ")))
    print(f"  corrupt or lost: {c('failed')}")
    for f in failures[:20]:
        print("  FAIL " + f)
    print(f"{c('passed')} passed, {c('failed')} failed")
    if args.skip_fsync:
        print(f"  plugd skipped the fsync (skip-fsync.so said so) in {c('workers whose plugd skipped an fsync')}"
              f" of {workers} workers")
    if args.expect_loss:
        found = c("failed") > 0 and c("workers whose plugd skipped an fsync") == workers
        print(f"power-cut: with the fsync of the {args.skip_fsync} skipped the campaign "
              + ("found corruption or loss, as it must" if found else "found NOTHING: it cannot tell a safe store from this one"))
        return 0 if found else 1
    return 0 if c("failed") == 0 and c("passed") == args.points else 1


def disk_stat():
    """The VM disk's counters (Documentation/block/stat.rst): write requests, sectors written,
    flush requests."""
    with open(f"/sys/block/{os.path.basename(DEVICE)}/stat") as stat:
        f = [int(x) for x in stat.read().split()]
    return {"writes": f[4], "sectors": f[6], "flushes": f[15] if len(f) > 15 else 0}


def delta(a, b):
    return {k: b[k] - a[k] for k in a}


def wear(args):
    """SD-card wear: what reaches the disk per toggle with the default coalescing."""
    disk = Disk(0, args.mount_options)
    plug = Plug(tempfile.mkdtemp(prefix="plugd-wear-"))
    plug.state_dir = os.path.join(disk.mnt, "state")
    configure(plug, DEFAULT_DELAY)
    plug.start(timeout=60, interval=0.02)
    # After a write, the journal holds the metadata; the kernel writes it back to its home
    # blocks once it has been dirty for dirty_expire_centisecs (30 s) at the next flusher run
    # (every 5 s). Each phase waits that long after its last command, so that it counts that too.
    with open("/proc/sys/vm/dirty_expire_centisecs") as f:
        expire = int(f.read()) / 100
    settle = expire + 10
    time.sleep(settle)

    def measured(toggles, gap, after=settle):
        """The disk's counters over `toggles` toggles `gap` s apart and `after` s more."""
        before = disk_stat()
        for _ in range(toggles):
            if not plug.command("toggle").get("ok"):
                raise RuntimeError("a toggle was refused")
            time.sleep(gap)
        time.sleep(after)
        return delta(before, disk_stat())

    idle_s = 60
    idle = measured(0, 0, after=idle_s)
    tog = measured(args.toggles, 2)   # one a minute in use; 2 s apart here: each is its own write
    burst = measured(10, 0)           # a burst inside one coalescing window
    plug.kill9()
    configure(plug, 0)
    plug.start(timeout=60, interval=0.02)
    time.sleep(settle)
    burst0 = measured(10, 0)
    plug.kill9()
    disk.remove()
    per = {k: v / args.toggles for k, v in tog.items()}
    print(f"wear: ext4 mounted {args.mount_options}, plugd with write_delay_ms = {DEFAULT_DELAY}, disk counters of {DEVICE};"
          f" each phase counted until {settle:.0f} s after its last command (metadata written back)")
    print(f"  idle {idle_s} s (plugd running, nothing happening): {idle['writes']} writes, {idle['sectors'] * 512} bytes,"
          f" {idle['flushes']} flushes")
    print(f"  {args.toggles} toggles 2 s apart: {tog['writes']} writes, {tog['sectors'] * 512} bytes, {tog['flushes']} flushes")
    print(f"  per toggle: {per['writes']:.1f} writes, {per['sectors'] * 512 / 1024:.1f} KiB, {per['flushes']:.1f} flushes")
    print(f"  per day at one toggle a minute (1440): {per['writes'] * 1440:.0f} writes,"
          f" {per['sectors'] * 512 * 1440 / 2**20:.1f} MiB, {per['flushes'] * 1440:.0f} flushes")
    print(f"  10 toggles in one burst: {burst['writes']} writes, {burst['sectors'] * 512 / 1024:.1f} KiB"
          f" (write_delay_ms = 0: {burst0['writes']} writes, {burst0['sectors'] * 512 / 1024:.1f} KiB)")
    ok = idle["writes"] == 0 and tog["writes"] > 0 and burst["writes"] < burst0["writes"]
    print("wear: " + ("idle writes nothing; a burst is coalesced" if ok else "UNEXPECTED: see the figures above"))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=500)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--mount-options", default="noatime")
    ap.add_argument("--skip-fsync", choices=["file", "directory"])
    ap.add_argument("--expect-loss", action="store_true")
    ap.add_argument("--ops", default=",".join(WRITE_OPS + RESET_OPS),
                    help="the commands to cut, comma-separated (default: all of them)")
    ap.add_argument("--write-delays", default=f"0,{DEFAULT_DELAY}",
                    help="the write_delay_ms values to draw from, comma-separated (default: 0 and the default)")
    ap.add_argument("--wear", action="store_true")
    ap.add_argument("--toggles", type=int, default=20)
    args = ap.parse_args()
    args.ops = args.ops.split(",")
    args.write_delays = [int(d) for d in args.write_delays.split(",")]
    if not set(args.ops) <= set(WRITE_OPS + RESET_OPS):
        ap.error(f"--ops: each of {', '.join(WRITE_OPS + RESET_OPS)}")
    if os.geteuid() != 0 or not os.path.exists(DEVICE):
        print(f"power-cut: needs root and a disk at {DEVICE}: run it in the VM with VM_DISK (see --help)")
        return 2
    if args.skip_fsync:
        args.shim = os.path.join(tempfile.mkdtemp(prefix="plugd-shim-"), "skip-fsync.so")
        run("cc", "-O2", "-shared", "-fPIC", "-o", args.shim, os.path.join(ROOT, "integration", "skip-fsync.c"), "-ldl")
    return wear(args) if args.wear else campaign(args)


if __name__ == "__main__":
    sys.exit(main())
