"""Run the driver on one submission inside a bubblewrap sandbox, with limits.

The sandbox sees a read-only system (``/usr``, the Python installation and the
virtual environment), this package's code, a private ``/tmp`` of limited size,
its own process, IPC and network namespaces (so no network at all, not even
the host's loopback), and nothing else: no course folder, no solutions, no
gradebook, no other submission. Inside it the code runs as an unprivileged
user id of its own, so limits on processes count only its processes.

``run_job`` takes and returns plain data, so it can run on any
``concurrent.futures`` executor, a Dask cluster's included.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SANDBOX_PACKAGE = "/opt/grader"
FIRST_UID = 61000


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox on this machine."""


@dataclass(frozen=True)
class Limits:
    timeout: float = 30.0          # seconds per student cell and per exercise
    memory_mb: int = 2048          # address space of each process
    processes: int = 64            # processes and threads of the sandbox's user
    file_mb: int = 64              # largest file the code may write
    disk_mb: int = 128             # size of the private /tmp
    output_mb: int = 16            # bytes the grader reads back
    open_files: int = 256


@dataclass
class Outcome:
    """What came back from one sandboxed run: the driver's records and how the run ended."""

    records: list = field(default_factory=list)
    status: str = "done"           # done | timeout | output-flood | crashed | no-sandbox
    detail: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


RETRIES = 2
# A run's fixed cost before its first supervised step: the interpreter, numpy and torch imported in the
# sandbox, on a busy machine (about 5 s when quiet).
START_SECONDS = 120
# RLIMIT_CPU, the kernel's backstop should the wall-clock watchdog itself fail: the start and this many
# supervised steps' worth of CPU. It never binds an honest run, whose steps each end within the timeout.
CPU_BACKSTOP_STEPS = 20


class Stopped(RuntimeError):
    """The run was stopped at once (a second Ctrl-C): this job was not, or not fully, graded."""


# The sandboxes running now, so that a second Ctrl-C can end them at once instead of waiting for
# each one's time limit; once stopping, no job starts another attempt.
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def stop_all() -> None:
    """End every running sandbox now (its whole process group) and start no new one."""
    _STOPPING.set()
    with _LIVE_LOCK:
        running = list(_LIVE)
    for process in running:
        _kill_group(process)


def run_job(job: dict, limits: Limits | None = None, sandbox: bool = True) -> dict:
    """Run one job (cells and requests) and return the driver's records as plain data.

    A run that ends badly as a whole (the time limit, a flood of the result
    pipe, the sandbox killed from inside) is run again without the cell it was
    stuck in, so that the cell costs only the exercises that depend on it.
    """
    limits = limits or Limits()
    skipped: dict[int, str] = {}
    uid = _UIDS.acquire()
    try:
        command = bubblewrap_command(uid, limits) if sandbox else [sys.executable, "-m", "autograder.driver"]
        for attempt in range(RETRIES + 1):
            if _STOPPING.is_set():
                raise Stopped("the grading run was stopped")
            attempt_job = dict(job, cells=[dict(c, source="pass") if i in skipped else c
                                           for i, c in enumerate(job["cells"])])
            outcome = _run(command, attempt_job, limits, overall_timeout(attempt_job, limits), sandbox)
            culprit = _stuck_cell(outcome, len(job["cells"]), skipped)
            if outcome.status in ("done", "no-sandbox") or culprit is None or attempt == RETRIES:
                break
            skipped[culprit] = f"{outcome.status.replace('-', ' ')}: {outcome.detail}"
    finally:
        _UIDS.release(uid)
    outcome.records = [r for r in outcome.records if not (r.get("type") == "cell" and r.get("index") in skipped)]
    outcome.records += [{"type": "cell", "index": i, "status": "skipped", "error": why} for i, why in skipped.items()]
    return outcome.as_dict()


def _stuck_cell(outcome: Outcome, count: int, skipped: dict[int, str]) -> int | None:
    """The first cell the driver never reported on: where a run that ended badly was stuck."""
    reported = {r.get("index") for r in outcome.records if r.get("type") == "cell"}
    for index in range(count):
        if index not in reported and index not in skipped:
            return index
    return None


def overall_timeout(job: dict, limits: Limits) -> float:
    """The wall-clock budget of a whole run: every supervised step may use the per-step timeout."""
    supervised = sum(c["role"] == "student" for c in job["cells"]) + len(job["requests"])
    return START_SECONDS + limits.timeout * (supervised + 1)


def _run(command: list[str], job: dict, limits: Limits, wall: float, sandbox: bool) -> Outcome:
    started = time.monotonic()
    read_end, write_end = os.pipe()
    env = None if sandbox else {**os.environ, **SANDBOX_ENVIRONMENT, "PYTHONPATH": str(PACKAGE_DIR.parent)}
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(write_end,), env=env, cwd="/tmp", start_new_session=True,
            preexec_fn=lambda: _set_limits(limits))
    except BaseException:
        os.close(write_end)
        raise
    with _LIVE_LOCK:
        _LIVE.add(process)
    reader = _Reader(read_end, limits.output_mb * 2**20)
    reader.start()
    stderr = _Reader(process.stderr.fileno(), 64 * 1024, keep=True)
    stderr.start()
    try:
        process.stdin.write(json.dumps({**job, "timeout": limits.timeout, "results_fd": write_end}).encode())
        process.stdin.close()
    except BrokenPipeError:
        pass
    finally:
        os.close(write_end)
    outcome = Outcome()
    while process.poll() is None:
        if reader.overflowed:
            outcome.status, outcome.detail = "output-flood", f"wrote more than {limits.output_mb} MB of results"
            break
        if time.monotonic() - started > wall:
            outcome.status, outcome.detail = "timeout", f"the whole run exceeded {wall:g} s"
            break
        if reader.saw_done:
            break
        time.sleep(0.02)
    _kill_group(process)
    with _LIVE_LOCK:
        _LIVE.discard(process)
    reader.join(timeout=5)
    stderr.join(timeout=5)
    outcome.records = reader.records()
    outcome.seconds = round(time.monotonic() - started, 3)
    if outcome.status == "done" and not reader.saw_done:
        message = stderr.text().strip()
        if sandbox and message.startswith("bwrap:"):
            outcome.status, outcome.detail = "no-sandbox", message
        else:
            outcome.status, outcome.detail = "crashed", f"the run ended early (exit status {process.returncode})"
    return outcome


def _set_limits(limits: Limits) -> None:
    """In the child, before bubblewrap starts: the limits every process of the sandbox inherits."""
    mb = 2**20
    for name, value in (("RLIMIT_AS", limits.memory_mb * mb), ("RLIMIT_NPROC", limits.processes),
                        ("RLIMIT_FSIZE", limits.file_mb * mb), ("RLIMIT_NOFILE", limits.open_files),
                        ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))
    cpu = int(START_SECONDS + limits.timeout * CPU_BACKSTOP_STEPS)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


class _Reader(threading.Thread):
    """Reads a pipe up to a byte budget, splitting JSON lines as they arrive."""

    def __init__(self, fd: int, budget: int, keep: bool = False):
        super().__init__(daemon=True)
        self.fd, self.budget, self.keep = fd, budget, keep
        self.buffer = bytearray()
        self.scanned = 0  # the buffer's complete lines before this offset have been looked at
        self.overflowed = self.saw_done = False

    def run(self) -> None:
        try:
            while True:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    break
                if len(self.buffer) + len(chunk) > self.budget:
                    self.overflowed = True
                    if self.keep:
                        continue
                    break
                self.buffer += chunk
                if not self.keep:
                    self._look_for_done()
        finally:
            if not self.keep:
                os.close(self.fd)

    def _look_for_done(self) -> None:
        """The driver's last record is {"type": "done"}; whole lines are read, so a record that arrives
        in two pieces is still seen."""
        while (end := self.buffer.find(b"\n", self.scanned)) != -1:
            record = _json_object(bytes(self.buffer[self.scanned:end]))
            self.scanned = end + 1
            if record is not None and record.get("type") == "done":
                self.saw_done = True

    def text(self) -> str:
        return self.buffer.decode("utf-8", errors="replace")

    def records(self) -> list:
        """Well-formed records only; a garbled line (a student writing into the result pipe) is dropped."""
        return [r for r in map(_json_object, bytes(self.buffer).splitlines()) if r is not None]


def _json_object(line: bytes) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


# --------------------------------------------------------------------------- bubblewrap

SANDBOX_ENVIRONMENT = {
    "HOME": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.matplotlib", "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
    "LANG": "C.UTF-8",
}


def bubblewrap_command(uid: int, limits: Limits) -> list[str]:
    """The bwrap command line that starts the driver as ``uid`` in a fresh sandbox (its /tmp holds
    ``limits.disk_mb``; the other limits are set on the process, :func:`_set_limits`)."""
    bwrap = shutil.which("bwrap")
    setpriv = shutil.which("setpriv")
    if not bwrap or not setpriv:
        raise SandboxUnavailable("bubblewrap is not installed (Debian package `bubblewrap`); "
                                 "install it, or pass --unsafe-no-sandbox to grade without isolation")
    as_root = os.geteuid() == 0
    command = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session"]
    # As root, the sandbox drops to a user id of its own (setpriv below); otherwise it already
    # runs unprivileged, in a user namespace.
    command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if as_root else ["--unshare-user"]
    command += ["--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
               "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
               "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
               "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
               "--proc", "/proc", "--dev", "/dev",
               "--perms", "1777", "--size", str(limits.disk_mb * 2**20), "--tmpfs", "/tmp"]
    for path in python_locations():
        command += _directories_above(path) + ["--ro-bind", str(path), str(path)]
    package = Path(SANDBOX_PACKAGE) / "autograder"
    command += _directories_above(package) + ["--ro-bind", str(PACKAGE_DIR), str(package),
                "--chdir", "/tmp", "--clearenv"]
    for name, value in {**SANDBOX_ENVIRONMENT, "PATH": "/usr/bin:/bin", "PYTHONPATH": SANDBOX_PACKAGE}.items():
        command += ["--setenv", name, value]
    if as_root:
        command += [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]
    return command + [sys.executable, "-m", "autograder.driver"]


def python_locations() -> list[Path]:
    """The folders the interpreter needs: the virtual environment and the installation it comes from."""
    places = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).parent.parent}
    inside_usr = [p for p in places if str(p).startswith("/usr")]
    return sorted(p for p in places if p not in inside_usr)


def _directories_above(path: Path) -> list[str]:
    """bwrap creates missing parents with mode 0700; make them traversable by the sandbox's user."""
    args = []
    for parent in reversed(path.parents):
        if str(parent) != "/":
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


class _UidPool:
    """A distinct user id for each sandbox running at the same time in this process."""

    def __init__(self, size: int = 256):
        base = FIRST_UID + (os.getpid() % 64) * size
        self.free = list(range(base, base + size))
        self.lock = threading.Lock()

    def acquire(self) -> int:
        with self.lock:
            return self.free.pop(0)

    def release(self, uid: int) -> None:
        with self.lock:
            self.free.append(uid)


_UIDS = _UidPool()


@functools.cache
def check_available() -> None:
    """Raise SandboxUnavailable unless a trivial sandbox starts and answers (checked once per process)."""
    job = {"cells": [{"role": "master", "source": "x = 1"}], "requests": [{"name": "x", "kind": "value"}]}
    outcome = run_job(job, Limits(timeout=20))
    if outcome["status"] != "done":
        raise SandboxUnavailable(f"bubblewrap could not start a sandbox: {outcome['detail']}")
