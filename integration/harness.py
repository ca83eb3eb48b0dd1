"""What the integration suites in this folder share (Python): the real plugd binary started
headless (`plugd --simulate --headless`) and its control socket; a notification socket as systemd
keeps one; a mosquitto broker of their own on 127.0.0.1, a recording MQTT client (paho-mqtt,
imported only by the MQTT suites that use it) and the plug's topics; the one-line-per-check
report. Scripts here import it by name: Python puts a script's own folder on its path."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository
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
            raise RuntimeError(f"config/plugd.toml no longer has {old!r}: update integration/harness.py")
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

    def __init__(self, workdir, extra_config="", wrapper=()):
        """`wrapper`: a command that execs plugd (its arguments follow), e.g. an unshare."""
        self.workdir = workdir
        self.wrapper = list(wrapper)
        self.state_dir = os.path.join(workdir, "state")
        self.socket = os.path.join(workdir, "control.sock")
        self.config = os.path.join(workdir, "plugd.toml")
        self.log = os.path.join(workdir, "plugd.log")
        with open(self.config, "w") as f:
            f.write(headless_config(self.socket) + extra_config)
        self.proc = None

    def start(self, timeout=10.0, interval=0.002):
        """Starts plugd and waits until it answers `status` (asked every `interval` seconds);
        returns that status."""
        if os.path.exists(self.socket):
            os.unlink(self.socket)  # a kill -9 leaves it behind; plugd replaces it anyway
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            self.wrapper + [PLUGD, "--simulate", "--headless", "--config", self.config, "--state-dir", self.state_dir],
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
            time.sleep(interval)
        raise RuntimeError(f"plugd did not answer within {timeout} s: {self.tail()}")

    def send_button(self, line):
        """Moves the simulated button: `press` or `release`."""
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def status(self):
        return request(self.socket, {"command": "status"})["status"]

    def command(self, command, **extra):
        return request(self.socket, {"command": command, **extra})

    def mapped(self, text):
        """Whether plugd has a file mapped whose path contains `text` (/proc/PID/maps)."""
        with open(f"/proc/{self.proc.pid}/maps") as f:  # a wrapper must exec plugd, as unshare and sh do
            return any(text in line for line in f)

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


# --- What the crash campaigns (kill-campaign.py, power-cut.py) share ---

def persisted(status):
    """The fields of a status that live in the state file (the mode and LED are not persisted)."""
    return (status["identity"].lower(), status["name"], status["registered"], status["relay"])


def is_fresh(view, before):
    """A factory-reset plug: a new identity, default name, not registered, relay off."""
    identity, name, registered, relay = view
    return identity != before[0] and name == "plugd" and not registered and relay == "off"


def expected_after(op, name, before):
    """The persisted fields after `op` (`name` for setup) from `before`; None for the resets,
    whose identity cannot be known."""
    identity, old_name, registered, relay = before
    return {"on": (identity, old_name, registered, "on"), "off": (identity, old_name, registered, "off"),
            "toggle": (identity, old_name, registered, "off" if relay == "on" else "on"),
            "setup": (identity, name, True, relay), "reset": before}.get(op)


class TimedRequest(threading.Thread):
    """One command sent from a thread of its own, `delay` seconds after start(), so that a kill
    or a power cut can land while plugd carries it out. After join(): `reply` (None if none
    came), `at` (time.monotonic() when it came) and `took` (seconds from sending)."""

    def __init__(self, sock_path, op, name=None, timeout=5.0, delay=0.0):
        super().__init__(daemon=True)
        self.message = {"command": op, **({"name": name} if name else {})}
        self.sock_path, self.timeout, self.delay = sock_path, timeout, delay
        self.reply = self.at = self.took = None

    def run(self):
        time.sleep(self.delay)
        t0 = time.monotonic()
        try:
            self.reply = request(self.sock_path, self.message, self.timeout)
            self.at = time.monotonic()
            self.took = self.at - t0
        except (OSError, ValueError):
            pass


# --- Checks and the MQTT suites' broker and client ---

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)}", flush=True)
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class Broker:
    """A mosquitto process with a plain listener (anonymous) and, if `tls`, a TLS listener that
    needs a user name and password."""

    def __init__(self, workdir, tls=None, extra=()):
        self.workdir = workdir
        self.extra = list(extra)
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.tls = tls
        self.conf = os.path.join(workdir, "mosquitto.conf")
        self.configure(persistence=False)
        self.proc = None

    def configure(self, persistence):
        """Writes the config; with `persistence`, retained messages survive a restart."""
        tls = self.tls
        lines = ["per_listener_settings true", f"persistence {'true' if persistence else 'false'}",
                 f"persistence_location {self.workdir}/", "user root",
                 *self.extra, f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if tls:
            lines += [f"listener {self.tls_port} 127.0.0.1", "allow_anonymous false",
                      f"password_file {tls['passwords']}", f"cafile {tls['ca']}",
                      f"certfile {tls['cert']}", f"keyfile {tls['key']}"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        log = open(os.path.join(self.workdir, "mosquitto.log"), "ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=log, stderr=log)
        log.close()
        if not wait_for(lambda: self._listening(), timeout=10):
            raise RuntimeError("mosquitto did not start: see " + self.workdir)

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Client:
    """A test-side MQTT client that records every message (topic, payload, retained)."""

    def __init__(self, port, subscribe=("#",)):
        self.messages = []
        self.lock = threading.Lock()
        import paho.mqtt.client as mqtt  # only the MQTT suites need it (scripts/setup --tests)

        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{time.monotonic_ns()}")
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        for topic in subscribe:
            self.c.subscribe(topic, qos=1)

    def _on_message(self, _c, _u, m):
        with self.lock:
            self.messages.append((m.topic, m.payload.decode(errors="replace"), bool(m.retain)))

    def seen(self, topic, payload=None, retained=None):
        with self.lock:
            return [m for m in self.messages if m[0] == topic and (payload is None or m[1] == payload)
                    and (retained is None or m[2] == retained)]

    def publish(self, topic, payload, retain=False):
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def retained(port, topic_filter, settle=1.0):
    """The retained messages under `topic_filter` now: {topic: payload}."""
    c = Client(port, (topic_filter,))
    time.sleep(settle)
    c.close()
    return {t: p for t, p, r in c.messages if r}


def mqtt_config(port, extra=""):
    return f'\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\nkeepalive_s = 10\nreconnect_max_s = 2\n{extra}'


def topics(identity):
    device = "plugd-" + identity.lower().replace("-", "")[:12]
    base = f"plugd/{device}"
    return {"device": device, "state": base + "/state", "set": base + "/set", "availability": base + "/availability",
            "identify": base + "/identify", "switch": f"homeassistant/switch/{device}/relay/config",
            "button": f"homeassistant/button/{device}/identify/config", "countdown": base + "/countdown",
            "countdown_set": base + "/countdown/set", "number": f"homeassistant/number/{device}/countdown/config",
            "ends": f"homeassistant/sensor/{device}/countdown_ends/config", "press": base + "/button",
            "single": f"homeassistant/device_automation/{device}/button_single/config"}


def start_broker(prefix, extra=()):
    """A fresh work directory and a mosquitto started in it (`extra`: more config lines):
    (work, broker)."""
    import shutil
    import tempfile
    if not shutil.which("mosquitto"):
        sys.exit("mosquitto is not installed (apt-get install mosquitto; ./scripts/setup does it)")
    work = tempfile.mkdtemp(prefix=prefix)
    broker = Broker(work, extra=extra)
    broker.start()
    return work, broker


def finish(work):
    """Prints the closing line, keeps `work` only if a check failed, and exits 1 then."""
    import shutil
    print(f"{results['passed']} passed, {results['failed']} failed")
    if results["failed"] == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work} for inspection")
    sys.exit(1 if results["failed"] else 0)
