"""What the web suites share (Python): plugd-web started beside a headless plugd (harness.Plug),
its password set with the real `plugctl web-password`, and small HTTP helpers that can send
from any loopback address (127.0.0.2, …), so per-address limits can be tried."""
import http.client
import json
import os
import subprocess
import tempfile
import time

from harness import BIN, Plug, free_port

PLUGD_WEB = os.path.join(BIN, "plugd-web")
PLUGCTL = os.path.join(BIN, "plugctl")
PASSWORD = "correct horse battery"


class Web:
    """One plugd-web process on 127.0.0.1:<free port>, reaching `plug` over its socket."""

    def __init__(self, plug, workdir, idle_exit=0, port=None, listen="127.0.0.1"):
        self.plug = plug
        self.listen = listen
        self.port = port or free_port()
        self.password_file = os.path.join(workdir, "web-password")
        self.state_dir = os.path.join(workdir, "web-state")
        self.log = os.path.join(workdir, f"plugd-web-{self.port}.log")
        self.idle_exit = idle_exit
        self.proc = None

    def set_password(self, password=PASSWORD):
        return subprocess.run([PLUGCTL, "web-password", "--stdin", "--file", self.password_file],
                              input=password + "\n", capture_output=True, text=True)

    def start(self, timeout=10.0):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [PLUGD_WEB, "--socket", self.plug.socket, "--listen", f"{self.listen}:{self.port}",
             "--password-file", self.password_file, "--state-dir", self.state_dir, "--idle-exit", str(self.idle_exit)],
            stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"plugd-web exited with {self.proc.returncode}: {open(self.log).read()[-500:]}")
            try:
                if self.get("/api/session")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("plugd-web did not answer")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, headers=None, source="127.0.0.1", timeout=10.0):
        """Returns (status, headers dict lowercased, decoded JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))
        h = {"Host": f"127.0.0.1:{self.port}"}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            try:
                decoded = json.loads(data)
            except ValueError:
                decoded = data.decode(errors="replace")
            return r.status, hdrs, decoded
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def login(self, password=PASSWORD, source="127.0.0.1"):
        """Logs in; returns the headers a page then sends (cookie and CSRF token) and the token."""
        status, headers, reply = self.post("/api/login", {"password": password}, source=source)
        if status != 200:
            raise RuntimeError(f"login: {status} {reply}")
        cookie = headers["set-cookie"].split(";")[0]
        return {"Cookie": cookie, "X-CSRF-Token": reply["csrf"]}, reply["token"]

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def plug_and_web(prefix, password=True, name="kettle"):
    """A work directory, plugd headless in it (set up, named `name`) and plugd-web beside it
    (with the password set, unless `password` is False), both started."""
    work = tempfile.mkdtemp(prefix=prefix)
    os.environ["PLUGD_BOOT_ID"] = "0123456789abcdef0123456789abcdef"
    plug = Plug(work)
    plug.start()
    if name:
        plug.command("setup", name=name)
    web = Web(plug, work)
    if password:
        web.set_password()
    web.start()
    return work, plug, web
