#!/usr/bin/env python3
"""The terminal simulator (`plugd --simulate`) as a person uses it, on a pseudo-terminal: B pushes
the button and B again lets go, the screen shows the relay switch and the journal-style events, Q
quits with the state kept; T starts a 10 s countdown the screen counts down, C cancels it; the next start honours it; SIGTERM stops it as Q does.

    integration/terminal-simulator.py
Closing line: "N passed, N failed"."""
import os
import pty
import re
import select
import signal
import subprocess
import tempfile
import time

from harness import PLUGD, check, finish

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


class Screen:
    """plugd --simulate on a pseudo-terminal; `text` is everything it drew, escapes removed."""

    def __init__(self, state_dir):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([PLUGD, "--simulate", "--state-dir", state_dir], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.raw = b""

    @property
    def text(self):
        return ANSI.sub(b"", self.raw).decode(errors="replace")

    @property
    def frame(self):
        """The screen as last drawn (each frame starts by homing the cursor and clearing)."""
        return ANSI.sub(b"", self.raw.rsplit(b"\x1b[H\x1b[J", 1)[-1]).decode(errors="replace")

    def read(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], max(0, end - time.monotonic()))
            if not r:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.raw += chunk

    def until(self, pattern, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if re.search(pattern, self.text):
                return True
            self.read(0.1)
        return bool(re.search(pattern, self.text))

    def key(self, k):
        os.write(self.master, k)

    def exited(self, timeout=10):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        self.read(0.2)
        return code


def main():
    work = tempfile.mkdtemp(prefix="plugd-sim-")
    state = os.path.join(work, "state")
    s = Screen(state)
    check("the screen shows the start-up event", s.until(r"started: plugd started, relay off"))
    s.key(b"b")
    time.sleep(0.3)
    s.key(b"b")
    check("B, B: a short press switches the relay on (event shown)", s.until(r"relay: Relay on \(button\)"))
    check("the relay row says ON", s.until(r"relay\s+ON"))
    s.key(b"t")
    check("T: a 10 s countdown, shown and counted down on screen",
          s.until(r"timer\s+off in 10 s") and s.until(r"timer\s+off in 8 s", 4))
    s.key(b"c")
    check("C: cancelled, the event shown, the relay still on, no timer row",
          s.until(r"timer_cancelled: Countdown cancelled") and re.search(r"relay\s+ON", s.frame) and "timer " not in s.frame, s.frame)
    s.key(b"q")
    check("Q quits with status 0", s.exited() == 0)
    check("and says where the state is kept", "plugd: stopped; state kept in" in s.text)

    s = Screen(state)
    check("the next start restores the relay (power-on policy last)", s.until(r"started: plugd started, relay on"))
    s.proc.send_signal(signal.SIGTERM)
    check("SIGTERM stops it as Q does", s.exited() == 0)
    check("and the cursor is shown again", "\x1b[?25h" in s.raw.decode(errors="replace"))
    finish(work)


if __name__ == "__main__":
    main()
