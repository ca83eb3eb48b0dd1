"""What the MQTT suites share: a mosquitto broker of their own on 127.0.0.1, a recording test
client (paho-mqtt), the plug's topics, and the one-line-per-check report."""
import os
import socket
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "faults"))
from plugharness import Plug  # noqa: E402,F401

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
            "button": f"homeassistant/button/{device}/identify/config"}


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
