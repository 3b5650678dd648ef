#!/usr/bin/env python3
"""Times shell scripts in alternation (A, B, A, B, ...) so that load from other
work on a shared machine hits both alike; prints, per script, the median wall
and median CPU (user+sys of the whole process tree) in ms.
   interleave.py ROUNDS WORKDIR NAME=SCRIPT [NAME=SCRIPT ...]
Each round runs SCRIPT with bash in a fresh WORKDIR/NAME directory, after a sync
that is not timed: otherwise the previous round's deletion is still being written
back, and a script that syncs (certgen-json, cluster-config, bare-tree) pays for
it where one that does not (cfssljson) leaves it to the next round.
NAME=exec:COMMAND runs COMMAND (split as a shell would, no expansions; in WORKDIR/NAME, so
with absolute paths) directly, without bash, its output discarded: for process start-up,
where bash's own 2-3 ms would hide it."""
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time


def once(script, workdir):
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    os.sync()
    start = time.perf_counter()
    argv = shlex.split(script[5:]) if script.startswith("exec:") else ["bash", "-euo", "pipefail", script]
    proc = subprocess.Popen(argv, cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{script} failed in {workdir}")
    # wait4's usage covers the script and every child it waited for.
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main():
    rounds, base = int(sys.argv[1]), sys.argv[2]
    scripts = [arg.split("=", 1) for arg in sys.argv[3:]]
    for name, script in scripts:  # warm-up: page cache, binaries
        once(script, os.path.join(base, name))
    samples = {name: [] for name, _ in scripts}
    for _ in range(rounds):
        for name, script in scripts:
            samples[name].append(once(script, os.path.join(base, name)))
    for name, _ in scripts:
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        wall = statistics.median(s[0] for s in samples[name])
        cpu = statistics.median(s[1] for s in samples[name])
        print(f"{name} {wall:.2f} {cpu:.2f}")


if __name__ == "__main__":
    main()
