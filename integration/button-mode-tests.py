#!/usr/bin/env python3
"""Button modes on the real binaries: plugd headless on the simulated chip, the button moved on
its stdin, events read from the control socket's watch stream as they come.

    integration/button-mode-tests.py

Checks: mode = "detached" reports presses (watch, journal) and never switches the relay, and its
5 s hold still enters setup mode; multi_press_ms = 400 with double_press = "off": a double press
switches the relay off (not two toggles), a triple press is reported at once; a config that
asks for a double-press action without multi-press is refused. Measures the extra wait
multi-press adds to a single press: press to relay change, median of 10, without and with it.

Prints one line per check and a closing line "N passed, N failed"; exits 1 if any failed."""
import json
import os
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time

from harness import BIN, Plug, check, finish, wait_for


class Watch:
    """The watch stream: (monotonic arrival, event) for every event."""

    def __init__(self, plug):
        self.events = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(plug.socket)
        self.sock.sendall(b'{"command":"watch"}\n')
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        first = True
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if first:  # the reply with the status
                    first = False
                    continue
                with self.lock:
                    self.events.append((time.monotonic(), json.loads(line)))

    def named(self, name, since=0.0):
        with self.lock:
            return [(t, e) for t, e in self.events if e["event"] == name and t >= since]

    def close(self):
        self.sock.close()


def configure(plug, lines):
    """Sets `[button]` keys (`key = value` lines), replacing the example's own."""
    with open(plug.config) as f:
        text = f.read()
    for line in lines.splitlines():
        key = line.split("=")[0].strip()
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)
        text = text.replace("[button]\n", f"[button]\n{line}\n", 1)
    with open(plug.config, "w") as f:
        f.write(text)


def press(plug, hold=0.1):
    """A press of `hold` seconds; returns the monotonic time of the press."""
    t = time.monotonic()
    plug.send_button("press")
    time.sleep(hold)
    plug.send_button("release")
    return t


def relay_delays(plug, watch, n=10):
    """Press to relay change, n presses 1.5 s apart: the delays in ms."""
    delays = []
    for _ in range(n):
        t = press(plug)
        wait_for(lambda: watch.named("relay", t), 3)
        changes = watch.named("relay", t)
        if changes:
            delays.append((changes[0][0] - t) * 1000)
        time.sleep(1.5)
    return delays


def plug_with(work, name, lines):
    os.makedirs(os.path.join(work, name))
    plug = Plug(os.path.join(work, name))
    configure(plug, lines)
    plug.start()
    return plug, Watch(plug)


def main():
    work = tempfile.mkdtemp(prefix="plugd-buttons-")
    plugs = []
    try:
        # --- Detached ---
        plug, watch = plug_with(work, "detached", 'mode = "detached"\n')
        plugs.append(plug)
        t = press(plug)
        check("detached: a press is reported as a single press",
              wait_for(lambda: any(e["fields"].get("PLUG_PRESSES") == "single" for _, e in watch.named("button_press", t)), 3),
              watch.events[-3:])
        time.sleep(0.3)
        check("... and the relay does not move", plug.status()["relay"] == "off" and not watch.named("relay"), plug.status())
        press(plug, hold=5.5)
        check("... the 5 s hold still enters setup mode", wait_for(lambda: plug.status()["mode"] == "setup", 3), plug.status())
        watch.close()

        # --- Multi-press ---
        plug, watch = plug_with(work, "multi", 'multi_press_ms = 400\ndouble_press = "off"\n')
        plugs.append(plug)
        plug.command("on")
        time.sleep(3.5)  # the flood guard's window
        t = press(plug)
        time.sleep(0.15)
        press(plug)
        check("a double press is reported once, as double",
              wait_for(lambda: watch.named("button_press", t), 3) and time.sleep(0.6) is None
              and [e["fields"]["PLUG_PRESSES"] for _, e in watch.named("button_press", t)] == ["double"],
              watch.named("button_press", t))
        check("... and does its action (off), not two toggles",
              plug.status()["relay"] == "off" and len(watch.named("relay", t)) == 1, watch.named("relay", t))
        time.sleep(1)
        t = press(plug)
        time.sleep(0.15)
        press(plug)
        time.sleep(0.15)
        last = press(plug)
        reported = wait_for(lambda: watch.named("button_press", t), 3)
        check("a triple press is reported at its third release, without the gap",
              reported and [e["fields"]["PLUG_PRESSES"] for _, e in watch.named("button_press", t)] == ["triple"]
              and watch.named("button_press", t)[0][0] - last < 0.1 + 0.3, watch.named("button_press", t))
        time.sleep(1)
        with_gap = relay_delays(plug, watch)
        watch.close()

        plug, watch = plug_with(work, "plain", "")
        plugs.append(plug)
        time.sleep(0.5)
        without = relay_delays(plug, watch)
        watch.close()
        a, b = statistics.median(without), statistics.median(with_gap)
        print(f"press to relay change, median of {len(without)}: {a:.0f} ms without multi-press, "
              f"{b:.0f} ms with multi_press_ms = 400 (a 100 ms press): {b - a:.0f} ms more")
        check("the extra wait of a single press is the 100 ms press, the 400 ms gap and the 50 ms debounce (within 100 ms)",
              len(with_gap) == 10 and len(without) == 10 and abs((b - a) - 500) < 100, (without, with_gap))

        # --- A config that cannot work ---
        bad = os.path.join(work, "bad.toml")
        with open(plug.config) as f:
            text = f.read()
        with open(bad, "w") as f:
            f.write(text.replace("[button]\n", '[button]\ndouble_press = "toggle"\n', 1))
        out = subprocess.run([os.path.join(BIN, "plugd"), "--check-config", bad], capture_output=True, text=True)
        check("double_press without multi_press_ms is refused, saying what it needs",
              out.returncode != 0 and "button.double_press: needs button.multi_press_ms" in out.stderr, out.stderr)
    finally:
        for p in plugs:
            p.stop()
    finish(work)


if __name__ == "__main__":
    main()
