#!/usr/bin/env python3
"""Countdowns (`plugctl on --for 30m`) on the real binaries: plugd headless on the simulated chip,
driven through plugctl and the control socket, with real seconds (short countdowns).

    integration/timer-tests.py

Checks: on/off --for switch now and back when the time is up, with the journal entries;
plugctl shows the countdown; cancel-timer and any other switch end it; a restart of plugd in the
same boot keeps it running (and fires at once if it ended meanwhile); a start in another boot
(a power cut) finds it ended and the power-on policy decides; bad durations are refused by
plugctl (exit 64) and by the socket, with plugd still serving; `[relay] auto_off` switches off
after its time, started by plugctl and by the button, replaced by a countdown asked for.

Prints one line per check and a closing line "N passed, N failed"; exits 1 if any failed."""
import os
import subprocess
import tempfile
import time

from harness import BIN, Plug, check, finish, wait_for

PLUGCTL = os.path.join(BIN, "plugctl")


def plugctl(plug, command, *args):
    return subprocess.run([PLUGCTL, command, "--socket", plug.socket, *args], capture_output=True, text=True)


def main():
    work = tempfile.mkdtemp(prefix="plugd-timer-")
    os.environ["PLUGD_BOOT_ID"] = "0123456789abcdef0123456789abcdef"
    plug = Plug(work)
    plug.start()
    try:
        # --- on --for through plugctl ---
        out = plugctl(plug, "on", "--for", "2s")
        check("plugctl on --for 2s: exit 0, relay on, the countdown shown",
              out.returncode == 0 and "relay" in out.stdout and "timer" in out.stdout and "off in 2 s" in out.stdout,
              out.stdout + out.stderr)
        check("... the journal says it started", plug.logged("PLUG_EVENT=timer_started"), plug.tail())
        check("... not off before its time", plug.status()["relay"] == "on")
        check("... off when the 2 s are up", wait_for(lambda: plug.status()["relay"] == "off", 5), plug.status())
        check("... and the journal says the countdown switched it",
              plug.logged("PLUG_EVENT=timer_fired") and plug.logged("PLUG_SOURCE=timer"), plug.tail())
        check("... and no countdown remains", "timer" not in plug.status(), plug.status())

        # --- off --for through the socket ---
        plug.command("on")
        reply = plug.command("off", seconds=1)
        check("off for 1 s over the socket: off now, on in 1 s",
              reply.get("ok") and reply["status"]["relay"] == "off" and reply["status"].get("timer", "").startswith("on in"), reply)
        check("... on again", wait_for(lambda: plug.status()["relay"] == "on", 5), plug.status())

        # --- cancel-timer, and another switch ---
        plug.command("on", seconds=60)
        out = plugctl(plug, "cancel-timer")
        check("cancel-timer: exit 0, the relay stays on, no countdown",
              out.returncode == 0 and plug.status()["relay"] == "on" and "timer" not in plug.status(), out.stdout + out.stderr)
        plug.command("on", seconds=60)
        plug.send_button("press")
        time.sleep(0.1)
        plug.send_button("release")
        check("a button press ends a countdown (its word is the last)",
              wait_for(lambda: plug.status()["relay"] == "off" and "timer" not in plug.status(), 5), plug.status())

        # --- Restarts ---
        plug.command("on", seconds=3)
        plug.stop()
        plug.start()
        check("restarted in the same boot: the countdown goes on", plug.status().get("timer", "").startswith("off in"), plug.status())
        check("... and fires", wait_for(lambda: plug.status()["relay"] == "off", 6), plug.status())
        plug.command("on", seconds=1)
        plug.stop()
        time.sleep(1.5)
        plug.start()
        check("restarted after the countdown's end (same boot): it fires at once",
              wait_for(lambda: plug.status()["relay"] == "off", 2), plug.status())
        plug.command("on", seconds=60)
        plug.stop()
        os.environ["PLUGD_BOOT_ID"] = "fedcba9876543210fedcba9876543210"
        plug.start()
        status = plug.status()
        check("started in another boot (a power cut): the countdown has ended, relay off under policy last",
              status["relay"] == "off" and "timer" not in status, status)
        check("... and the journal says so", plug.logged("PLUG_EVENT=timer_lapsed"), plug.tail())

        # --- Bad durations ---
        for bad in ("0s", "8d", "10", "5x", "-3m", "1.5h"):
            out = plugctl(plug, "on", f"--for={bad}")
            check(f"plugctl on --for {bad}: refused with exit 64 and the accepted form",
                  out.returncode == 64 and "whole number and a unit" in out.stderr, (out.returncode, out.stderr))
        for bad in (0, -5, 604801, "60", 1.5):
            reply = plug.command("on", seconds=bad)
            check(f"socket: seconds {bad!r} refused", not reply.get("ok") and "second" in reply.get("error", ""), reply)
        check("... the relay untouched by all of them, and plugd still serving", plug.status()["relay"] == "off")
    finally:
        plug.stop()
    auto_off(work)
    finish(work)


def auto_off(work):
    """`[relay] auto_off = "2s"`: every switch on starts a countdown to off."""
    os.makedirs(os.path.join(work, "auto"))
    os.makedirs(os.path.join(work, "bad"))
    plug = Plug(os.path.join(work, "auto"))
    with open(plug.config) as f:
        text = f.read()
    with open(plug.config, "w") as f:
        f.write(text.replace("[relay]\n", '[relay]\nauto_off = "2s"\n', 1))
    plug.start()
    try:
        out = plugctl(plug, "on")
        check("auto_off = \"2s\": plugctl on shows the auto-off countdown",
              out.returncode == 0 and "off in 2 s (auto-off)" in out.stdout, out.stdout + out.stderr)
        check("... off when the 2 s are up, logged as the auto-off's",
              wait_for(lambda: plug.status()["relay"] == "off", 5) and plug.logged("Auto-off ended"), plug.tail())
        plug.send_button("press")
        time.sleep(0.1)
        plug.send_button("release")
        check("... a button press on starts it too", wait_for(lambda: "(auto-off)" in plug.status().get("timer", ""), 3), plug.status())
        reply = plug.command("on", seconds=30)
        check("... a countdown asked for takes its place", reply.get("ok") and reply["status"].get("timer", "").startswith("off in 30 s"), reply)
    finally:
        plug.stop()
    bad = Plug(os.path.join(work, "bad"))
    with open(bad.config) as f:
        text = f.read()
    with open(bad.config, "w") as f:
        f.write(text.replace("[relay]\n", '[relay]\nauto_off = "2 hours"\n', 1))
    out = subprocess.run([os.path.join(BIN, "plugd"), "--check-config", bad.config], capture_output=True, text=True)
    check("auto_off = \"2 hours\": --check-config names the key and the form",
          out.returncode != 0 and "relay.auto_off: must be a whole number and a unit" in out.stderr, (out.returncode, out.stderr))


if __name__ == "__main__":
    main()
