#!/usr/bin/env python3
"""Malformed input against the real binaries: every bad config file and every bad control request
gets a clear error, and nothing crashes.

Config files (`plugd --check-config FILE`):
  - integration/corpus/config/KEY__what.toml: must exit 78 with every stderr line "plugd: FILE: ..."
    and name KEY (`line-N` means the TOML parser's "line N").
  - generated: odd files (empty, binary, NUL bytes, a BOM, a 1 MiB line, a directory, a missing
    path) and --mutations random byte-level mutations of config/plugd.toml: exit 0 or 78 only
    (never a signal), and on 78 every line is "plugd: FILE: ...".
Control requests (to a running `plugd --simulate --headless`, one connection each):
  - integration/corpus/control/err-*.req must get {"ok":false,"error":...}; ok-*.req {"ok":true};
  - generated: mutations of valid requests and random bytes: one JSON reply line, ok or error.
  After every request the daemon must still be running and answer `status`.

    integration/corpus.py [--mutations 400] [--seed N]
Closing line: "N passed, N failed" (one check per input)."""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from harness import PLUGD, ROOT, Plug, exchange, request

HERE = os.path.dirname(os.path.abspath(__file__))
results = {"passed": 0, "failed": 0}
failures = []


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    if not ok:
        failures.append(what)


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        i = rng.randrange(len(data) + 1) if data else 0
        if op == 0 and data:              # flip a byte
            data[min(i, len(data) - 1)] = rng.randrange(256)
        elif op == 1:                     # insert a byte, often a TOML/JSON metacharacter
            data[i:i] = bytes([rng.choice(b'[]{}="\'\\,.#\n\0 -+e') if rng.random() < 0.7 else rng.randrange(256)])
        elif op == 2 and data:            # delete a run
            del data[i:i + rng.randint(1, 8)]
        elif op == 3:                     # duplicate a run
            data[i:i] = data[i:i + rng.randint(1, 40)]
        elif op == 4:                     # truncate
            data = data[:i]
        else:                             # swap two lines
            lines = data.split(b"\n")
            if len(lines) > 1:
                a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[a], lines[b] = lines[b], lines[a]
                data = bytearray(b"\n".join(lines))
    return bytes(data)


def check_config(path, expect_key=None, may_be_valid=False):
    t0 = time.monotonic()
    p = subprocess.run([PLUGD, "--check-config", path], capture_output=True, timeout=30)
    took = time.monotonic() - t0
    err = p.stderr.decode(errors="replace")
    lines = [ln for ln in err.splitlines() if ln]
    label = f"config {os.path.basename(path)}"
    if p.returncode < 0 or p.returncode not in ((0, 78) if may_be_valid else (78,)):
        check(False, f"{label}: exit {p.returncode}: {err[:300]}")
        return
    if p.returncode == 78:
        prefix = f"plugd: {path}: "
        if not lines or not all(ln.startswith(prefix) for ln in lines):
            check(False, f"{label}: error lines not of the form '{prefix}...': {err[:300]}")
            return
        if expect_key:
            needle = f"line {expect_key[5:]}:" if expect_key.startswith("line-") else f": {expect_key}:"
            if not any(needle in ln for ln in lines):
                check(False, f"{label}: does not name {expect_key}: {err[:300]}")
                return
    check(took < 10, f"{label}: took {took:.1f} s")


def config_campaign(rng, mutations, work):
    corpus = os.path.join(HERE, "corpus", "config")
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".toml"))
    for f in files:
        check_config(os.path.join(corpus, f), expect_key=f.split("__")[0])
    n_files = len(files)
    odd = {
        "empty.toml": b"",
        "binary.toml": bytes(rng.randrange(256) for _ in range(4096)),
        "nul-bytes.toml": b"[relay]\nline = \0 17\n",
        "bom.toml": b"\xef\xbb\xbf[relay]\nline = 17\n",
        "invalid-utf8.toml": b"[relay]\nline = \"\xff\xfe\"\n",
        "one-mebibyte-line.toml": b"x = \"" + b"a" * (1 << 20) + b"\"\n",
        "deep-arrays.toml": b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "many-tables.toml": b"".join(b"[t%d]\n" % i for i in range(20000)),
    }
    for name, data in odd.items():
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(data)
        check_config(path)
    os.mkdir(os.path.join(work, "a-directory.toml"))
    check_config(os.path.join(work, "a-directory.toml"))
    check_config(os.path.join(work, "missing.toml"))
    with open(os.path.join(ROOT, "config", "plugd.toml"), "rb") as f:
        example = f.read()
    for i in range(mutations):
        path = os.path.join(work, f"mutant-{i}.toml")
        with open(path, "wb") as f:
            f.write(mutate(rng, example))
        before = results["failed"]
        check_config(path, may_be_valid=True)
        if results["failed"] == before:
            os.unlink(path)
    print(f"  config: {n_files} corpus files, {len(odd) + 2} odd files, {mutations} mutations of config/plugd.toml")


def control_case(plug, label, data, expect):
    try:
        line = exchange(plug.socket, data)
        reply = json.loads(line) if line is not None else None
    except (OSError, ValueError) as e:
        check(False, f"{label}: no reply: {e}")
        return
    if not isinstance(reply, dict) or "ok" not in reply:
        check(False, f"{label}: reply is not a JSON reply line: {line!r}")
        return
    if reply["ok"] is False and not reply.get("error"):
        check(False, f"{label}: error reply without a message: {line!r}")
        return
    if expect is not None and reply["ok"] != expect:
        check(False, f"{label}: expected ok={expect}, got {line[:200]!r}")
        return
    alive = plug.alive()
    try:
        alive = alive and request(plug.socket, {"command": "status"})["ok"]
    except (OSError, ValueError):
        alive = False
    check(alive, f"{label}: daemon not answering after it: {plug.tail()}")


def control_campaign(rng, mutations, work):
    plug = Plug(work)
    plug.start()
    corpus = os.path.join(HERE, "corpus", "control")
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".req"))
    for f in files:
        with open(os.path.join(corpus, f), "rb") as fh:
            control_case(plug, f"control {f}", fh.read(), f.startswith("ok-"))
    valid = [b'{"command":"status"}\n', b'{"command":"setup","name":"desk lamp"}\n', b'{"command":"toggle"}\n',
             b'{"command":"watch"}\n', b'{"command":"reset"}\n']
    for i in range(mutations):
        if i % 4 == 3:
            data = bytes(rng.randrange(256) for _ in range(rng.choice([1, 10, 100, 1000, 5000])))
        else:
            data = mutate(rng, rng.choice(valid))
        control_case(plug, f"control mutation {i} {data[:60]!r}", data, None)
    plug.stop()
    print(f"  control: {len(files)} corpus requests, {mutations} generated requests;"
          f" plugd exit status at stop: {plug.proc.returncode}")
    check(plug.proc.returncode == 0, f"plugd stopped with {plug.proc.returncode}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutations", type=int, default=400)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    print(f"corpus: seed {args.seed}")
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="plugd-corpus-")
    config_campaign(rng, args.mutations, work)
    control_campaign(rng, args.mutations, work)
    for f in failures[:30]:
        print("  FAIL " + f)
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
