"""Runs a notebook's code and answers the grader's requests: ``python -m autograder.driver``.

The grader starts this program inside the sandbox with a job on stdin
(``{"cells": [...], "requests": [...], "timeout": seconds, "results_fd": n}``)
and reads JSON lines from the pipe it passed as file descriptor ``n``. It is also what builds answer keys, outside the
sandbox, on the trusted reference notebook (``--record``).

A student's cell may loop forever (even swallowing KeyboardInterrupt), exit the
process, kill it or crash the interpreter. So every student cell runs in a
forked child: when the child finishes the cell it reports back, the parent
exits and the child carries on with the notebook; when the child hangs or dies
first, the parent kills it, records why, and carries on without that cell.
Each exercise's checks run in a forked child the same way. One broken cell
therefore costs only what depends on it.

Nothing printed here is trusted: the grader judges the plain data it receives
in its own process. The student's stdout and stderr go to /dev/null, so
warnings and floods of output cannot interfere with the result channel.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import sys
import time

class Channel:
    """JSON lines to the grader, written with single os.write calls (one line per record)."""

    def __init__(self, fd: int):
        self.fd = fd

    def send(self, record: dict) -> None:
        data = (json.dumps(record) + "\n").encode()
        while data:
            written = os.write(self.fd, data)
            data = data[written:]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--record", help="answer-key mode: run every cell of a trusted notebook, "
                                         "test cells included, and write the key entries to this file")
    args = parser.parse_args(argv)
    job = json.loads(sys.stdin.read())
    if args.record:
        from .mode import recording_environment  # only here: a sandboxed run starts without it

        os.environ.update(recording_environment(args.record))
        record_key(job)
    else:
        grade(job, Channel(job["results_fd"]))


# --------------------------------------------------------------------------- grading

def grade(job: dict, channel: Channel) -> None:
    _silence_student_output()
    _become_keeper()
    shell = _shell()
    timeout = float(job["timeout"])  # sandbox.Limits, sent with every job
    for index, cell in enumerate(job["cells"]):
        if cell["role"] == "student":
            outcome = _supervised(lambda: _run_cell(shell, cell["source"]), timeout)
            channel.send({"type": "cell", "index": index, **outcome})
        else:
            channel.send({"type": "cell", "index": index, **_run_cell(shell, cell["source"])})
    namespace = shell.user_ns
    for request in job["requests"]:
        outcome = _supervised(lambda: {"replies": _answer(namespace, request)}, timeout)
        channel.send({"type": "exercise", "name": request["name"], **outcome})
    channel.send({"type": "done"})
    os._exit(0)


def _become_keeper() -> None:
    """Fork the first worker and stay behind until every worker has exited.

    Workers hand the notebook on from parent to child (see ``_supervised``), so
    the process that bubblewrap started would exit early, and bubblewrap would
    end the whole sandbox with it. This process waits instead: every worker
    inherits the write end of a pipe, and reading it returns end-of-file only
    when the last of them is gone.
    """
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.close(read_end)
        return
    os.close(write_end)
    while os.read(read_end, 1):
        pass
    os._exit(0)


def _supervised(work, timeout: float) -> dict:
    """Run ``work`` in a forked child; the survivor of the two returns its outcome.

    The child does the work and sends its result back. If it does so in time,
    the parent exits and the child goes on as the main process; otherwise the
    parent kills it and goes on itself, reporting a timeout or a crash.
    """
    read_end, write_end = os.pipe()
    child = _fork()
    if child is None:  # no process left to fork (the student's own fork bomb): run unsupervised
        os.close(read_end)
        os.close(write_end)
        return work()
    if child == 0:
        os.setpgid(0, 0)  # the step and everything it forks form one group, killed together
        os.close(read_end)
        outcome = work()
        _kill_strays()
        _write_all(write_end, json.dumps(outcome).encode())
        os.close(write_end)
        return outcome
    try:
        os.setpgid(child, child)  # also from here, so the group exists before any kill
    except OSError:
        pass
    os.close(write_end)
    data, deadline = b"", time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
            _kill_group(child)
            os.waitpid(child, 0)
            os.close(read_end)
            return {"status": "timeout", "error": f"did not finish within {timeout:g} s"}
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        data += chunk
    os.close(read_end)
    if data:
        os._exit(0)  # the child reported back and carries on; this process is done
    _, status = os.waitpid(child, 0)
    return {"status": "crashed", "error": _describe_death(status)}


def _kill_group(leader: int) -> None:
    try:
        os.killpg(leader, signal.SIGKILL)
    except OSError:
        os.kill(leader, signal.SIGKILL)


def _kill_strays() -> None:
    """Kill every other process of this step's group: what the student's code forked and left running."""
    me, group = os.getpid(), os.getpgrp()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                pgrp = int(stat.read().rsplit(")", 1)[1].split()[2])
            if pgrp == group:
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue


def _fork() -> int | None:
    """os.fork(), retried for a moment when the process limit is reached; None if it stays full."""
    for _ in range(50):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.1)
    return None


def _describe_death(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        reasons = {"SIGSEGV": "crashed the interpreter (segmentation fault)",
                   "SIGXCPU": "used up its CPU time", "SIGKILL": "was killed"}
        return reasons.get(name, f"was killed by {name}")
    return f"ended the process (exit status {os.WEXITSTATUS(status)})"


def _run_cell(shell, source: str) -> dict:
    me = os.getpid()
    try:
        result = shell.run_cell(source, store_history=False, silent=True)
    except BaseException as error:  # a cell that breaks IPython itself
        return {"status": "error", "error": f"{type(error).__name__}: {error}"[:500]}
    finally:
        _end_stray(me)
    error = result.error_before_exec or result.error_in_exec
    if error is None:
        return {"status": "ok"}
    return {"status": "error", "error": f"{type(error).__name__}: {error}"[:500]}


def _answer(namespace, request) -> list:
    from .kinds import answer

    me = os.getpid()
    try:
        return answer(namespace, request)
    except BaseException as error:  # e.g. inputs the student's environment cannot decode
        return [{"ok": False, "error": f"{type(error).__name__}: {error}"[:500]}]
    finally:
        _end_stray(me)


def _end_stray(expected_pid: int) -> None:
    """A process the student's code forked must not carry on as a grader: it ends here."""
    if os.getpid() != expected_pid:
        os._exit(0)


def _silence_student_output() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)


def _shell():
    """An IPython shell without a kernel: notebook semantics (magics, last-expression values)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.display_pub.publish = lambda *args, **kwargs: None  # nothing is displayed while grading
    # Only the exception itself is needed; formatting tracebacks is slow, and can fail
    # in a process that has just run out of memory.
    shell.showtraceback = lambda *args, **kwargs: None
    shell.showsyntaxerror = lambda *args, **kwargs: None
    return shell


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


# --------------------------------------------------------------------------- answer keys

def record_key(job: dict) -> None:
    """Run a trusted reference notebook top to bottom; its test cells write the answer key."""
    shell = _shell()
    for index, cell in enumerate(job["cells"]):
        outcome = _run_cell(shell, cell["source"])
        if outcome["status"] != "ok":
            sys.exit(f"the reference notebook failed in code cell {index}: {outcome['error']}")


if __name__ == "__main__":
    main()
