"""Run a command and write its peak resident memory, counted from the command's own start.

Linux carries a process's peak resident size (``ru_maxrss``) across ``exec``: a command
started by a large process (the benchmark after comparing 60,000 x 200 results tables, or
after simulating a matrix) reports at least that process's size at the fork. This small
process starts the command instead, so the figure is the command's own: its ``ru_maxrss`` in
KiB (the largest of the command and its waited-for children), written to the file named first.

Usage::

    python peak_rss.py OUT_FILE COMMAND [ARG...]

Exits with the command's exit code (128 + N when signal N ended it).
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    """Run the command, write its peak resident memory (KiB) to the file; its exit code."""
    out, cmd = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w", encoding="ascii") as f:
        f.write(f"{usage.ru_maxrss}\n")
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
