#!/usr/bin/python3
"""Block until the machine looks idle: CPU busy < 10% over 3 consecutive 1-s windows
(from /proc/stat), or until the timeout (default 180 s). Prints what it saw to stderr."""
import sys, time

def snap():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return idle, sum(v)

timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 180.0
t0 = time.time(); ok = 0; busy = 1.0
i0, s0 = snap()
while time.time() - t0 < timeout:
    time.sleep(1.0)
    i1, s1 = snap()
    busy = 1.0 - (i1 - i0) / max(1, s1 - s0)
    i0, s0 = i1, s1
    ok = ok + 1 if busy < 0.10 else 0
    if ok >= 3:
        print("wait_quiet: idle after %.0f s" % (time.time() - t0), file=sys.stderr)
        sys.exit(0)
print("wait_quiet: still busy (%.0f%%) after %.0f s, going on" % (100 * busy, timeout), file=sys.stderr)
