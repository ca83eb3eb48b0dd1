#!/usr/bin/python3
"""Benchmarks, run inside the gpio-sim VM by scripts/bench: plugd and the Python baseline
(integration/bench-baseline.py) measured the same way in the same run, printed as a Markdown table.

For each subject:
  start -> READY   time from exec to READY=1 on $NOTIFY_SOCKET (median of --starts runs)
  press -> relay   integration/press-latency.c: gpio-sim pull write to the relay's value change, minus
                   the 50 ms debounce, over --presses presses (p50, p99, max)
  CPU / 1000       user+system CPU time of the process over those presses, per 1000 presses
  RSS              VmRSS after the presses
  idle wake-ups    context switches of all the process's threads (sampled every 200 ms) over
                   --idle seconds with the relay on and the LED steady, per minute; plugd also
                   under WatchdogSec=30
With --compare PLUGD, a second plugd build (say, the one before a change) is measured the same
way in the same run, as a third column: `./scripts/bench --compare .build-before/release/plugd`.
Everything runs under QEMU's software emulation (TCG): absolute times are many times a real
board's; the subjects are comparable with each other."""
import argparse
import glob
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
import harness
DEBOUNCE_US = 50_000
SYSFS = os.environ["GPIOSIM_SYSFS"]
NAMES = os.environ["GPIOSIM_LINES"].split(",")
PULL = f"{SYSFS}/sim_gpio{NAMES.index('button')}/pull"
RELAY = f"{SYSFS}/sim_gpio{NAMES.index('relay')}/value"


def proc_cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def thread_switches(pid):
    """{thread id: voluntary + involuntary context switches} for every thread of the process."""
    out = {}
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            out[status.split("/")[4]] = sum(int(line.split()[1]) for line in open(status)
                                            if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")))
        except OSError:
            pass  # a thread that ended meanwhile
    return out


class Subject:
    def __init__(self, name, argv, work):
        self.name, self.argv, self.work = name, argv, work
        self.proc = None

    def start(self, extra_env=None):
        """Starts the subject; returns seconds from exec to READY=1. The notification socket
        stays open while it runs, as systemd's does, and its messages are read and dropped."""
        path = os.path.join(self.work, "notify.sock")
        self.notify = harness.NotifySocket(path)
        env = dict(os.environ, NOTIFY_SOCKET=path, **(extra_env or {}))
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, self.name + ".log"), "ab"))
        return self.notify.wait_ready(t0)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.notify.close()


PRESS_LATENCY = os.path.join(ROOT, ".build", "bench", "press-latency")


def press(count):
    out = subprocess.run([PRESS_LATENCY, PULL, RELAY, str(count)],
                         capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.split()]


def idle_per_minute(pid, seconds):
    """Context switches of all threads over `seconds`, per minute. Threads come and go (thread
    pools retire idle workers), so every thread is sampled every 200 ms and its increments are
    added up; a thread born in the window counts from zero. A thread that ends loses at most
    its last 200 ms."""
    time.sleep(2)   # let the start-up flashes and the last press settle
    last = thread_switches(pid)
    total = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.2)
        now = thread_switches(pid)
        total += sum(n - last.get(tid, 0) for tid, n in now.items())
        last = now
    return total * 60 / seconds


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def measure(subject, args):
    r = {}
    starts = []
    for i in range(args.starts):
        starts.append(subject.start())
        if i < args.starts - 1:
            subject.stop()
    r["ready"] = statistics.median(starts)
    pid = subject.proc.pid
    time.sleep(1.5)   # plugd's three start-up flashes
    cpu0 = proc_cpu_s(pid)
    lat = [us - DEBOUNCE_US for us in press(args.presses)]
    cpu = proc_cpu_s(pid) - cpu0
    r["p50"], r["p99"], r["max"], r["min"] = pct(lat, 50) / 1000, pct(lat, 99) / 1000, max(lat) / 1000, min(lat) / 1000
    r["cpu_per_1000"] = cpu / args.presses * 1000
    r["rss"] = proc_status(pid, "VmRSS") / 1024
    if args.presses % 2 == 0:
        press(1)   # relay on: the LED is solid blue, a steady LED
    r["idle"] = idle_per_minute(pid, args.idle)
    subject.stop()
    if subject.name != "baseline":
        subject.start({"WATCHDOG_USEC": "30000000"})
        r["idle_watchdog"] = idle_per_minute(subject.proc.pid, args.idle)
        subject.stop()
        r["idle_mqtt"] = idle_with_mqtt(subject, args)
    return r


def idle_with_mqtt(subject, args):
    """Idle wake-ups with an [mqtt] section, connected to a mosquitto on 127.0.0.1 in the VM
    (the default keepalive_s = 60): the MQTT client thread's pings count too."""
    port = 18830
    conf = os.path.join(subject.work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    # The VM's plain shell (no systemd) has not brought the loopback interface up.
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = subject.argv[subject.argv.index("--config") + 1]
    original = open(config).read()
    with open(config, "a") as f:
        f.write(f'[mqtt]\nhost = "127.0.0.1"\nport = {port}\n')
    try:
        time.sleep(1)
        subject.start()
        time.sleep(3)   # connected, discovery published
        status = subprocess.run([os.path.join(os.path.dirname(subject.argv[0]), "plugctl"), "status",
                                 "--socket", os.path.join(subject.work, "control.sock")],
                                capture_output=True, text=True).stdout
        if "mqtt       connected" not in status:
            raise SystemExit(f"bench: plugd did not connect to the broker:\n{status}")
        per_minute = idle_per_minute(subject.proc.pid, args.idle)
        subject.stop()
        return per_minute
    finally:
        broker.terminate()
        broker.wait()
        with open(config, "w") as f:
            f.write(original)


def main():
    global PRESS_LATENCY
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--idle", type=float, default=60.0)
    ap.add_argument("--starts", type=int, default=7)
    ap.add_argument("--plugd", default=os.path.join(ROOT, ".build", "release", "plugd"))
    ap.add_argument("--press-latency", default=PRESS_LATENCY, help="integration/press-latency.c built for this machine")
    ap.add_argument("--compare", metavar="PLUGD", help="another plugd build, measured the same way in the same run (a third column)")
    args = ap.parse_args()
    PRESS_LATENCY = args.press_latency
    work = tempfile.mkdtemp(prefix="plugd-bench-")
    open(PULL, "w").write("pull-up")
    config = os.path.join(work, "plugd.toml")
    with open(config, "w") as f:
        # The relay's flood guard off: it lets the relay change at most 5 times in 3 s, and these
        # presses come about 3 a second, so it would hold every few presses back for up to 1 s.
        f.write(f'[gpio]\nchip = "{os.environ["GPIOSIM_CHIP"]}"\n[relay]\nline = "relay"\nmax_changes_window_s = 0\n[button]\nline = "button"\n'
                f'[led]\nred = "led_r"\ngreen = "led_g"\nblue = "led_b"\n[control]\nsocket = "{work}/control.sock"\n')
    # A registered plug (an unregistered one is in setup mode: its LED blinks, so it is not idle).
    state = os.path.join(work, "state")
    os.mkdir(state)
    with open(os.path.join(state, "state.json"), "w") as f:
        f.write('{"identity":"11111111-2222-3333-4444-555555555555","name":"bench","registered":true,'
                '"relayOn":false,"version":1}\n')
    # plugd runs from the guest's own filesystem, as an installed plugd runs from the board's
    # disk: the project directory is shared with the host without caching (9p), where every
    # page of the 29 MB binary that plugd touches would be read from the host again. (Python and
    # its libraries come from the host's root, which the guest caches.)
    def installed(build, folder):
        path = f"/usr/local/libexec/{folder}/plugd"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        for name in ("plugd", "plugctl"):
            shutil.copy2(os.path.join(os.path.dirname(build), name), os.path.join(os.path.dirname(path), name))
        return path

    plugd = installed(args.plugd, "plugd-bench")
    subjects = [
        Subject("plugd", [plugd, "--config", config, "--state-dir", state], work),
        Subject("baseline", ["/usr/bin/python3", os.path.join(HERE, "bench-baseline.py"), os.environ["GPIOSIM_CHIP"]], work),
    ]
    if args.compare:
        other = installed(args.compare, "plugd-bench-compare")
        subjects.append(Subject("compare", [other, "--config", config, "--state-dir", state], work))
    results = {}
    for s in subjects:
        print(f"bench: measuring {s.name} ...", file=sys.stderr, flush=True)
        results[s.name] = measure(s, args)
    names = {"plugd": "plugd", "baseline": "Python baseline", "compare": f"plugd ({args.compare})"}
    cols = [results[n] for n in names if n in results]
    print(f"\n{os.uname().machine}, kernel {os.uname().release}, QEMU TCG, {os.cpu_count()} vCPUs; {args.presses} presses, "
          f"{args.idle:.0f} s idle, median of {args.starts} starts\n")
    print("| figure | " + " | ".join(names[n] for n in names if n in results) + " |")
    print("|---|" + "---:|" * len(cols))

    def row(label, cell):
        print(f"| {label} | " + " | ".join(cell(r) for r in cols) + " |")

    row("press -> relay latency p50 (minus 50 ms debounce)", lambda r: f"{r['p50']:.2f} ms")
    row("press -> relay latency p99", lambda r: f"{r['p99']:.2f} ms")
    row("press -> relay latency min / max", lambda r: f"{r['min']:.2f} / {r['max']:.2f} ms")
    row("idle wake-ups per minute, LED steady", lambda r: f"{r['idle']:.1f}")
    row("idle wake-ups per minute under WatchdogSec=30", lambda r: "n/a" if r.get("idle_watchdog") is None else f"{r['idle_watchdog']:.1f}")
    row("idle wake-ups per minute, MQTT connected (keepalive 60 s)", lambda r: "n/a" if r.get("idle_mqtt") is None else f"{r['idle_mqtt']:.1f}")
    row("RSS after the presses", lambda r: f"{r['rss']:.1f} MiB")
    row("CPU time per 1000 presses", lambda r: f"{r['cpu_per_1000']:.2f} s")
    row("start -> READY=1", lambda r: f"{r['ready']:.2f} s")


if __name__ == "__main__":
    main()
