"""Start the real plugd binary headless (`plugd --simulate --headless`) and talk to its control
socket, for the host-side fault campaigns. Standard library only."""
import json
import os
import socket
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PLUGD_BIN", os.path.join(ROOT, ".build", "debug"))
PLUGD = os.path.join(BIN, "plugd")

def headless_config(socket_path):
    """The shipped example config (its wiring is ignored by --simulate --headless) with the
    control socket moved to `socket_path` and every change written at once (no coalescing), so
    that an acknowledged command is on disk."""
    with open(os.path.join(ROOT, "config", "plugd.toml")) as f:
        text = f.read()
    for old, new in (('socket = "/run/plugd/control.sock"', f'socket = "{socket_path}"'),
                     ("write_delay_ms = 1000", "write_delay_ms = 0")):
        if old not in text:
            raise RuntimeError(f"config/plugd.toml no longer has {old!r}: update faults/plugharness.py")
        text = text.replace(old, new)
    return text


def exchange(sock_path, data, timeout=10.0):
    """Sends raw bytes, closes the write side, and returns the first reply line (bytes), or None
    if the daemon closed the connection without one. A failed send is not an error here: the
    daemon may refuse an oversized request before reading it all, and still reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        out = b""
        while b"\n" not in out:
            try:
                chunk = s.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out.split(b"\n", 1)[0] if b"\n" in out else None


def request(sock_path, message, timeout=5.0):
    """Sends one request (a dict, as a JSON line) and returns the reply decoded, or raises
    OSError (cannot connect) or ValueError (no reply, or not JSON)."""
    line = exchange(sock_path, (json.dumps(message) + "\n").encode(), timeout)
    if line is None:
        raise ValueError("no reply")
    return json.loads(line)


class NotifySocket:
    """systemd's notification socket as the service manager keeps it: bound at `path` (made
    anew) for the whole life of the process it is given to. `wait_ready(t0)` returns the seconds
    from `t0` to READY=1; after it a thread reads and drops every message until `close()`."""

    def __init__(self, path, timeout=60):
        if os.path.exists(path):
            os.unlink(path)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(timeout)

    def wait_ready(self, t0):
        while b"READY=1" not in self.sock.recv(4096).split(b"\n"):
            pass
        took = time.monotonic() - t0
        self.sock.settimeout(None)
        threading.Thread(target=self._drain, daemon=True).start()
        return took

    def _drain(self):
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)   # wakes the reading thread
        except OSError:
            pass
        self.sock.close()


class Plug:
    """One plugd process on a simulated chip, with its own state directory and socket."""

    def __init__(self, workdir, extra_config=""):
        self.workdir = workdir
        self.state_dir = os.path.join(workdir, "state")
        self.socket = os.path.join(workdir, "control.sock")
        self.config = os.path.join(workdir, "plugd.toml")
        self.log = os.path.join(workdir, "plugd.log")
        with open(self.config, "w") as f:
            f.write(headless_config(self.socket) + extra_config)
        self.proc = None

    def start(self, timeout=10.0):
        """Starts plugd and waits until it answers `status`; returns that status."""
        if os.path.exists(self.socket):
            os.unlink(self.socket)  # a kill -9 leaves it behind; plugd replaces it anyway
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [PLUGD, "--simulate", "--headless", "--config", self.config, "--state-dir", self.state_dir],
            stdin=subprocess.PIPE, stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"plugd exited with {self.proc.returncode}: {self.tail()}")
            try:
                reply = request(self.socket, {"command": "status"}, timeout=1.0)
                if reply.get("ok"):
                    return reply["status"]
            except (OSError, ValueError):
                pass
            time.sleep(0.002)
        raise RuntimeError(f"plugd did not answer within {timeout} s: {self.tail()}")

    def send_button(self, line):
        """Moves the simulated button: `press` or `release`."""
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def status(self):
        return request(self.socket, {"command": "status"})["status"]

    def command(self, command, **extra):
        return request(self.socket, {"command": command, **extra})

    def logged(self, text):
        """Whether the log has a line containing `text`."""
        with open(self.log, errors="replace") as f:
            return any(text in line for line in f)

    def log_index(self, text):
        """The number of the first log line containing `text`, or None."""
        with open(self.log, errors="replace") as f:
            return next((i for i, line in enumerate(f) if text in line), None)

    def log_count(self, text):
        with open(self.log, errors="replace") as f:
            return sum(text in line for line in f)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n=5):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""
