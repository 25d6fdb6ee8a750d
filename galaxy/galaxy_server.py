"""Configure, start and stop a local Galaxy (gunicorn) for the tool tests and for people.

The server runs in its own process group; its id is kept in ``<run dir>/state.json`` and in
``<run dir>/galaxy.pid`` so that it can always be stopped by process id.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template

import galaxy_api

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ADMIN_EMAIL = "admin@example.org"
ADMIN_NAME = "admin"


def galaxy_home() -> Path:
    """Cache folder holding the Galaxy virtualenv and run folders (outside the git tree)."""
    default = Path.home() / ".cache" / "deseq2-normalized" / "galaxy"
    return Path(os.environ.get("DESEQ2N_GALAXY_HOME", default))


def galaxy_venv() -> Path:
    """The Galaxy virtualenv, ``venv`` in :func:`galaxy_home`."""
    return galaxy_home() / "venv"


def tool_bin() -> Path:
    """Folder whose ``deseq2-normalized`` the Galaxy jobs run (the project's virtualenv)."""
    return Path(os.environ.get("DESEQ2N_TOOL_BIN", ROOT / ".venv" / "bin")).resolve()


@dataclass
class State:
    """What a started server needs to be used and stopped."""

    url: str
    port: int
    pid: int
    run_dir: str
    email: str
    password: str
    master_api_key: str
    user_api_key: str = ""
    slurm_conf: str = ""

    def save(self) -> None:
        """Write the state to ``state.json`` (owner-only) and the server's id to ``galaxy.pid`` in the run folder."""
        path = Path(self.run_dir) / "state.json"
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        path.chmod(0o600)
        (Path(self.run_dir) / "galaxy.pid").write_text(f"{self.pid}\n")

    @classmethod
    def load(cls, run_dir: Path) -> State | None:
        """The state saved in ``run_dir``'s ``state.json``, or None when there is none."""
        path = run_dir / "state.json"
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the system picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _secret(run_dir: Path, name: str) -> str:
    """A random secret kept in the run folder, so that a persistent run folder keeps its login."""
    path = run_dir / f".{name}"
    if not path.exists():
        path.write_text(secrets.token_hex(16))
        path.chmod(0o600)
    return path.read_text().strip()


def write_config(run_dir: Path, url: str, slurm: bool = False) -> Path:
    """Write galaxy.yml, job_conf.yml, tool_conf.xml and the HTML sanitize allowlist into ``run_dir``.

    With ``slurm``, job_conf.yml sends the tool's jobs to Slurm (galaxy/job_conf_slurm.yml);
    otherwise every job runs on the local runner (galaxy/job_conf_local.yml). Returns the
    galaxy.yml path.
    """
    (run_dir / "data" / "tmp").mkdir(parents=True, exist_ok=True)
    values = {
        "run_dir": str(run_dir),
        "url": url,
        "admin_email": ADMIN_EMAIL,
        "master_api_key": _secret(run_dir, "master_api_key"),
        "id_secret": _secret(run_dir, "id_secret"),
        "galaxy_venv": str(galaxy_venv()),
        "tool_bin": str(tool_bin()),
        "tool_dir": str(ROOT / "tool"),
    }
    sources = {
        "galaxy.yml": "galaxy.yml",
        "tool_conf.xml": "tool_conf.xml",
        "job_conf.yml": "job_conf_slurm.yml" if slurm else "job_conf_local.yml",
    }
    for name, source in sources.items():
        text = Template((HERE / source).read_text()).substitute(values)
        (run_dir / name).write_text(text)
    (run_dir / "sanitize_allowlist.txt").write_text("deseq2_normalized\n")
    (run_dir / "galaxy.yml").chmod(0o600)
    return run_dir / "galaxy.yml"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def log_tail(run_dir: Path, lines: int = 60) -> str:
    """The last ``lines`` lines of ``run_dir``'s galaxy.log, or ``(no galaxy.log)`` when it is missing."""
    path = run_dir / "galaxy.log"
    if not path.exists():
        return "(no galaxy.log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start(
    run_dir: Path, port: int | None = None, fresh: bool = False, timeout: float = 900, slurm_conf: Path | None = None
) -> State:
    """Start Galaxy in the background and wait until it answers; create the user and its key.

    With ``slurm_conf`` (a running cluster's slurm.conf, see scripts/slurm-cluster.sh), the tool's
    jobs go to that cluster through Galaxy's CLI runner; Galaxy's sbatch and squeue calls find it
    through ``SLURM_CONF``.

    Raises
    ------
    galaxy_api.GalaxyApiError
        When the server does not come up; it is stopped and the log tail is logged.
    """
    venv = galaxy_venv()
    if not (venv / "bin" / "gunicorn").exists():
        raise FileNotFoundError(f"no Galaxy virtualenv in {venv}: run galaxy/setup_galaxy.sh first")
    if not (tool_bin() / "deseq2-normalized").exists():
        raise FileNotFoundError(f"no deseq2-normalized in {tool_bin()}: run 'make venv' first")
    previous = State.load(run_dir) if run_dir.exists() else None
    if previous and _alive(previous.pid):
        raise RuntimeError(f"a Galaxy started from {run_dir} is still running (pid {previous.pid}); stop it first")
    if fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    config = write_config(run_dir, url, slurm=slurm_conf is not None)
    env = dict(os.environ)
    if slurm_conf is not None:
        env["SLURM_CONF"] = str(slurm_conf)
    env.update(
        GALAXY_CONFIG_FILE=str(config),
        GALAXY_VIRTUAL_ENV=str(venv),
        VIRTUAL_ENV=str(venv),
        PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
    )
    env.pop("PYTHONPATH", None)
    command = [
        str(venv / "bin" / "gunicorn"),
        "galaxy.webapps.galaxy.fast_factory:factory()",
        "-k", "galaxy.webapps.galaxy.workers.Worker",
        "-b", f"127.0.0.1:{port}",
        "-w", "1",
        "--timeout", "600",
        "--config", "python:galaxy.web_stack.gunicorn_config",
    ]  # fmt: skip
    log.info("starting Galaxy on %s (log: %s)", url, run_dir / "galaxy.log")
    with open(run_dir / "galaxy.log", "ab") as out:
        proc = subprocess.Popen(
            command, cwd=run_dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    state = State(
        url=url,
        port=port,
        pid=proc.pid,
        run_dir=str(run_dir),
        email=ADMIN_EMAIL,
        password=_secret(run_dir, "password"),
        master_api_key=_secret(run_dir, "master_api_key"),
        slurm_conf=str(slurm_conf or ""),
    )
    state.save()
    began = time.monotonic()
    try:
        version = galaxy_api.wait_until_ready(url, timeout, alive=lambda: proc.poll() is None)
        log.info("Galaxy %s answered after %.0f s", version.get("version_major"), time.monotonic() - began)
        state.user_api_key = galaxy_api.ensure_user(url, state.master_api_key, ADMIN_EMAIL, ADMIN_NAME, state.password)
        state.save()
    except BaseException:
        log.error("Galaxy failed to start; last lines of %s:\n%s", run_dir / "galaxy.log", log_tail(run_dir))
        stop(run_dir)
        raise
    return state


def stop(run_dir: Path, grace: float = 30) -> bool:
    """Stop the server started from ``run_dir`` by its process id (whole process group).

    Returns
    -------
    bool
        True when a running server was stopped.
    """
    state = State.load(run_dir)
    if state is None or not _alive(state.pid):
        return False
    log.info("stopping Galaxy (pid %d)", state.pid)
    _signal_group(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(state.pid):
        time.sleep(0.5)
    if _alive(state.pid):
        log.warning("Galaxy (pid %d) did not stop within %.0f s; killing it", state.pid, grace)
        _signal_group(state.pid, signal.SIGKILL)
        time.sleep(1)
    (run_dir / "galaxy.pid").unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: int) -> None:
    """Signal the server's own process group (its gunicorn workers), or the process alone."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass
