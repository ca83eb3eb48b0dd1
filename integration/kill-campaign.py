#!/usr/bin/env python3
"""kill -9 campaign: the real plugd (headless, simulated chip, real state directory) is killed
at a random instant while it carries out a state write (on/off/toggle/setup) or a factory reset
(factory-reset/deregister), then restarted. After every restart the persisted state must be
intact (no corrupt file set aside, no temp file or reset marker left) and must be either the
state before the command or the state after it; a command that was acknowledged must not be lost.

    integration/kill-campaign.py [--kills 1000] [--seed N]

Prints what it counted and a closing line "N passed, N failed" (one check per kill)."""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time

from harness import Plug, TimedRequest, expected_after, is_fresh, persisted

WRITE_OPS = ["on", "off", "toggle", "setup"]
RESET_OPS = ["factory-reset", "deregister"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"kill-campaign: {args.kills} kills, seed {args.seed}")

    work = tempfile.mkdtemp(prefix="plugd-kill-")
    plug = Plug(work)
    before = persisted(plug.start())
    latency = {"write": [0.002], "reset": [0.004]}   # seconds, learnt from acknowledged commands
    counts = dict(passed=0, failed=0, unacked=0, temp_left=0, marker_left=0, resets_completed_at_start=0,
                  rejected=0, write_ops=0, reset_ops=0)
    failures = []
    t_start = time.monotonic()

    for i in range(args.kills):
        kind = "write" if rng.random() < 0.5 else "reset"
        op = rng.choice(WRITE_OPS if kind == "write" else RESET_OPS)
        counts[kind + "_ops"] += 1
        name = f"plug-{i}" if op == "setup" else None
        sender = TimedRequest(plug.socket, op, name)
        # The kill lands anywhere from before the request is read to just after the reply:
        # spread over 1.5x the typical time the command takes.
        delay = rng.uniform(0, 1.5 * statistics.median(latency[kind][-50:]))
        sender.start()
        time.sleep(delay)
        plug.kill9()
        sender.join()

        left = set(os.listdir(plug.state_dir))
        counts["temp_left"] += ".state.json.tmp" in left
        counts["marker_left"] += "reset-pending" in left
        r = sender.reply
        if r is not None and r.get("ok"):
            latency[kind].append(sender.took)
            allowed = [persisted(r["status"])]
        elif r is not None:
            counts["rejected"] += 1          # e.g. "factory reset in progress": nothing changed
            allowed = [before]
        else:
            counts["unacked"] += 1
            allowed = [before]
            after = expected_after(op, name, before)
            if after is not None:
                allowed.append(after)

        log_mark = os.path.getsize(plug.log)
        try:
            status = plug.start()
        except RuntimeError as e:
            failures.append(f"kill {i} ({op}): restart failed: {e}")
            counts["failed"] += 1
            break
        now = persisted(status)
        with open(plug.log, errors="replace") as f:
            f.seek(log_mark)
            new_log = f.read()
        counts["resets_completed_at_start"] += "An interrupted factory reset was completed" in new_log
        problems = []
        leftovers = [n for n in os.listdir(plug.state_dir) if n != "state.json"]
        if leftovers:
            problems.append(f"left in the state directory after restart: {leftovers}")
        if "PLUG_EVENT=state_corrupt" in new_log:
            problems.append("state file found corrupt")
        ok_state = now in allowed or (r is None and op in RESET_OPS and is_fresh(now, before))
        if not ok_state:
            problems.append(f"state {now} is neither before {before} nor an allowed after {allowed[1:] or '(fresh)'}"
                            + (" (acknowledged: lost)" if r is not None else ""))
        if problems:
            counts["failed"] += 1
            failures.append(f"kill {i} ({op}, delay {delay * 1000:.2f} ms): " + "; ".join(problems))
        else:
            counts["passed"] += 1
        before = now

    plug.kill9()
    elapsed = time.monotonic() - t_start
    print(f"  commands: {counts['write_ops']} state writes, {counts['reset_ops']} factory resets/deregisters")
    print(f"  killed before the reply: {counts['unacked']}; refused (reset running): {counts['rejected']}")
    print(f"  found after the kill: temp file {counts['temp_left']}, reset marker {counts['marker_left']};"
          f" interrupted resets completed at restart: {counts['resets_completed_at_start']}")
    print(f"  typical command time: write {statistics.median(latency['write']) * 1000:.2f} ms,"
          f" reset {statistics.median(latency['reset']) * 1000:.2f} ms; campaign {elapsed:.0f} s")
    corrupt_or_lost = counts["failed"]
    print(f"  corrupt or lost states: {corrupt_or_lost}")
    for f in failures[:20]:
        print("  FAIL " + f)
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 0 if counts["failed"] == 0 and counts["passed"] == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
