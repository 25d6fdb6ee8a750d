"""galaxy-tool-test, asking Galaxy for a job's state once a second instead of four times.

Run with the Galaxy virtualenv's Python and galaxy-tool-test's arguments (galaxy/harness.py does).
galaxy-tool-test polls every job it waits for (the test's uploads, then the tool's job) every
0.25 s: ``galaxy.util.wait``'s default, not one of its options. Each poll cost the harness's one
Galaxy worker 23 ms of CPU (200 polls: 4.6 s), so two tests side by side kept a fifth of a core
busy answering, on a 2-core machine whose cores the jobs need. A job takes tens of seconds; a
second between polls delays each test by half a second on average.
"""

from __future__ import annotations

import functools
import sys

from galaxy.tool_util.verify import interactor
from galaxy.tool_util.verify.script import main
from galaxy.util.wait import wait_on

#: Seconds between two polls of a job's state.
POLL_SECONDS = 1.0

if __name__ == "__main__":
    interactor.wait_on = functools.partial(wait_on, delta=POLL_SECONDS)  # the name interactor calls
    sys.exit(main())
