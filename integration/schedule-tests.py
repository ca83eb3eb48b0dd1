#!/usr/bin/env python3
"""Schedules ([[schedule]] in the config) on the real binaries: plugd headless on the simulated
chip, in UTC (TZ=UTC), with the clock's "synchronised" flag a file of the test's own
(PLUGD_TIMESYNC_FILE), and runs a few seconds ahead (times to the second).

    integration/schedule-tests.py

Checks: with the clock not synchronised nothing runs and status says why; synchronised, an entry
runs at its second (not before), logged with its name, and plugctl schedule and status list the
next runs; runs that fall while plugd is stopped (more than 10 s before it starts again) are
skipped (schedule_missed) unless the entry says catch_up, whose last missed run happens once at the next start; a config with a bad entry
is refused naming it.

Prints one line per check and a closing line "N passed, N failed"; exits 1 if any failed."""
import os
import subprocess
import tempfile
import time

from harness import BIN, Plug, check, finish, wait_for

PLUGCTL = os.path.join(BIN, "plugctl")


def at(seconds_from_now):
    """The UTC time of day `seconds_from_now` ahead, HH:MM:SS, and that instant."""
    t = int(time.time()) + seconds_from_now
    return time.strftime("%H:%M:%S", time.gmtime(t)), t


def configure(plug, entries):
    """Rewrites the plug's config with `entries`: (time, action, extra lines)."""
    with open(plug.base_config) as f:
        text = f.read()
    for when, action, extra in entries:
        text += f'\n[[schedule]]\nat = "{when}"\naction = "{action}"\n{extra}'
    with open(plug.config, "w") as f:
        f.write(text)


def main():
    work = tempfile.mkdtemp(prefix="plugd-schedule-")
    os.environ["TZ"] = "UTC"
    os.environ["PLUGD_BOOT_ID"] = "0123456789abcdef0123456789abcdef"
    synced = os.path.join(work, "synchronized")
    os.environ["PLUGD_TIMESYNC_FILE"] = synced
    plug = Plug(work)
    plug.base_config = plug.config + ".base"
    os.rename(plug.config, plug.base_config)
    try:
        # --- Not synchronised: nothing runs ---
        when, t = at(3)
        configure(plug, [(when, "on", "")])
        status = plug.start()
        check("clock not synchronised: status says the schedules wait",
              status.get("schedule") == ["waiting for the system clock to be synchronised"], status)
        check("... and the journal says why", plug.logged("PLUG_EVENT=schedule_waiting"), plug.tail())
        time.sleep(max(0, t - time.time()) + 1.5)
        check("... its time passes and the relay stays off", plug.status()["relay"] == "off", plug.status())
        plug.stop()

        # --- Synchronised: runs at its second ---
        open(synced, "w").close()
        when, t = at(5)
        later, _ = at(3600)
        configure(plug, [(when, "on", ""), (later, "off", 'days = "daily"')])
        status = plug.start()
        out = subprocess.run([PLUGCTL, "schedule", "--socket", plug.socket], capture_output=True, text=True)
        lines = out.stdout.splitlines()
        check("plugctl schedule lists the next runs in local time, soonest first",
              out.returncode == 0 and len(lines) == 10 and when[:5] in lines[0] and "on" in lines[0]
              and "schedule 1 (" + when + ", daily)" in lines[0] and "schedule 2" in lines[1], out.stdout + out.stderr)
        out = subprocess.run([PLUGCTL, "status", "--socket", plug.socket], capture_output=True, text=True)
        check("plugctl status shows the next one", "schedule" in out.stdout and "schedule 1" in out.stdout, out.stdout)
        while time.time() < t - 0.4:
            time.sleep(0.05)
        check("not before its second", plug.status()["relay"] == "off", plug.status())
        check("at its second the relay is on", wait_for(lambda: plug.status()["relay"] == "on", 2.5), (time.time() - t, plug.status()))
        check("... logged as the schedule's, with its name",
              plug.logged("PLUG_EVENT=schedule_fired") and plug.logged(f"PLUG_SCHEDULE=schedule 1 ({when}, daily)")
              and plug.logged("PLUG_SOURCE=schedule"), plug.tail())
        plug.stop()

        # --- Missed while stopped: skipped, or caught up once ---
        when, t = at(2)
        configure(plug, [(when, "off", "")])
        time.sleep(max(0, t - time.time()) + 11.5)  # more than 10 s late is missed
        plug.start()
        check("a run missed while plugd was stopped is not run late",
              wait_for(lambda: plug.logged("PLUG_EVENT=schedule_missed"), 3) and plug.status()["relay"] == "on", plug.tail())
        plug.stop()
        when, t = at(2)
        configure(plug, [(when, "off", "catch_up = true\n")])
        time.sleep(max(0, t - time.time()) + 11.5)
        plug.start()
        check("... with catch_up = true it runs once at the start, said to be late",
              wait_for(lambda: plug.status()["relay"] == "off", 3) and plug.logged("missed and run late"), plug.tail())
        plug.stop()

        # --- A bad entry ---
        configure(plug, [("25:00", "on", "")])
        out = subprocess.run([os.path.join(BIN, "plugd"), "--check-config", plug.config], capture_output=True, text=True)
        check("a bad entry is refused, named", out.returncode != 0 and "schedule[1].at: must be a time like" in out.stderr, out.stderr)
    finally:
        plug.stop()
    finish(work)


if __name__ == "__main__":
    main()
