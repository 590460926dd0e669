"""Grade nbgrader submissions in a sandbox: ``python -m autograder COMMAND``.

    grade ASSIGNMENT...  grade every submission in submitted/<student>/ASSIGNMENT/ (of each
                         assignment named, in one pool of sandboxes)
    report ASSIGNMENT    per-student, per-cell scores and the reason for every lost point
                         (as text, JSON, CSV, statistics, or an HTML page with histograms)
    keys ASSIGNMENT      build the answer key (also needed by plain `nbgrader autograde`)

Run it from the course folder (the one with nbgrader_config.py).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import course, grading, integrity, keys, report, sandbox
from .gradebook import GradebookWriter, current_scores, graded_notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade submissions")
    g.add_argument("assignments", nargs="+", metavar="assignment")
    g.add_argument("--student", action="append", default=[], help="grade only this student (repeatable)")
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    g.add_argument("--timeout", type=float, default=sandbox.Limits.timeout,
                   help="seconds per answer cell and per exercise")
    g.add_argument("--memory", type=int, default=sandbox.Limits.memory_mb, help="memory limit of the sandbox, in MB")
    g.add_argument("--dask-scheduler", metavar="ADDRESS", help="run the sandboxes on a Dask cluster")
    g.add_argument("--force", action="store_true", help="regrade submissions already graded with this key")
    g.add_argument("--no-prune", action="store_true",
                   help="run every cell, not only the cells the answers need (slower, nbgrader's behaviour)")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without isolation (only if you trust every submission)")
    r = sub.add_parser("report", help="show the scores and the reasons for lost points")
    r.add_argument("assignment")
    shape = r.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="every record as JSON")
    shape.add_argument("--csv", action="store_true",
                       help="one row per student: cell scores, late penalty, total (for a gradebook import)")
    shape.add_argument("--stats", action="store_true",
                       help="per grade cell: mean, share with full marks, the most common reasons")
    shape.add_argument("--html", metavar="DIR", type=Path,
                       help="write DIR/index.html: histograms, per-cell statistics, every student's scores")
    r.add_argument("--student", help="only this student's records")
    k = sub.add_parser("keys", help="build the answer key of an assignment")
    k.add_argument("assignment")
    args = parser.parse_args(argv)

    # nbgrader runs the `alembic` command of its environment to check the gradebook's schema.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    root = course.find_root()
    if root is None:
        sys.exit("run this from the course folder (no nbgrader_config.py here or above)")
    if args.command == "report":
        records = report.with_gradebook(report.load(root, args.assignment),
                                        current_scores(course_directory(root), args.assignment))
        if args.student:
            records = [r for r in records if r["student"] == args.student]
            if not records:
                sys.exit(f"no graded submission of {args.student!r} in {args.assignment}")
        if args.html:
            from . import htmlreport  # matplotlib: loaded only for the page, not for every grading run

            print(f"wrote {htmlreport.write(records, args.assignment, args.html)}")
            return
        shape = report.as_json if args.json else report.as_csv if args.csv else \
            report.statistics if args.stats else report.table
        print(shape(records), end="" if args.csv else "\n")
        return
    if args.command == "keys":
        key = answer_key(root, args.assignment)
        count = sum(len(nb["exercises"]) for nb in key["notebooks"].values())
        print(f"answer key of {args.assignment}: {count} exercises in {course.key_path(root, args.assignment)}")
    else:
        grade(root, args)


def answer_key(root: Path, assignment: str) -> dict:
    """The assignment's answer key, built first if it is missing or stale; the run stops if it cannot be."""
    try:
        return keys.load_or_build(root, assignment)
    except keys.KeyBuildError as error:  # the reference is at fault, not a student: nothing was graded
        sys.exit(f"cannot build the answer key of {assignment}: {error}")


def grade(root: Path, args) -> None:
    """Grade every assignment named, their submissions sharing one pool of sandboxes: with several,
    no core waits for the slowest submission of one assignment before the next assignment starts."""
    coursedir = course_directory(root)
    writer = GradebookWriter(coursedir)
    sandboxed = not args.unsafe_no_sandbox
    if sandboxed:
        try:
            sandbox.check_available()
        except sandbox.SandboxUnavailable as error:
            sys.exit(f"refusing to grade: {error}\n(pass --unsafe-no-sandbox to grade without isolation)")
    else:
        print("WARNING: grading WITHOUT a sandbox: student code runs with your user's rights and can read "
              "and change your files; the results are marked 'no sandbox'", file=sys.stderr)
    plans = [plan_assignment(root, coursedir, writer, assignment, args) for assignment in dict.fromkeys(args.assignments)]
    limits = sandbox.Limits(timeout=args.timeout, memory_mb=args.memory)
    executor = make_executor(args.jobs, args.dask_scheduler)
    futures: dict[Future, tuple] = {}
    recorded = 0
    try:
        with stop_requested_by_ctrl_c() as stop:
            for plan in plans:
                for prepared, exercises in plan.work:
                    future = executor.submit(sandbox.run_job, prepared.job, limits, sandboxed) if prepared.job \
                        else _done(None)
                    futures[future] = (plan, prepared, exercises)
            for future in _progress(as_completed(futures), len(futures)):
                plan, prepared, exercises = futures[future]
                result = grading.decide(prepared, plan.assignment, exercises, future.result())
                writer.record(result, graded_notebook(prepared.rebuilt.notebook, result))
                report.save(root, result, plan.judged_with, sandboxed)
                recorded += 1
                if stop.is_set():
                    break
    except KeyboardInterrupt:  # the second Ctrl-C, wherever it lands: stop at once
        pass
    finally:
        if recorded < len(futures):  # stopped early: end the running sandboxes and start no other
            sandbox.stop_all()
        executor.shutdown(wait=recorded == len(futures), cancel_futures=True)
    if recorded < len(futures):
        sys.exit("interrupted: the gradebook holds every submission graded so far; "
                 "run the same command again to grade the rest")
    for plan in plans:
        summarize(root, coursedir, plan, heading=len(plans) > 1)


@dataclass
class Plan:
    """One assignment's share of a grading run: what it is judged with, and what is left to grade."""

    assignment: str
    judged_with: str
    students: list[str]
    work: list[tuple[grading.Prepared, list[dict]]]  # each notebook to grade, with the key's exercises
    skipped: int  # notebooks already graded with this key
    before: list[dict]  # the assignment's records before this run


def plan_assignment(root: Path, coursedir, writer: GradebookWriter, assignment: str, args) -> Plan:
    """Read and check every submitted notebook of the assignment (no student code runs here)."""
    notebooks = writer.notebooks(assignment)
    if not keys.is_current(root, assignment):
        print(f"building the answer key of {assignment}: running the reference notebook once ...",
              file=sys.stderr, flush=True)
    key = answer_key(root, assignment)
    judged_with = keys.content_fingerprint(key)
    students = args.student or submitting_students(coursedir, assignment)
    release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    masters = {nb: integrity.read_master(release / f"{nb}.ipynb") for nb in notebooks}
    work = []
    for student in students:
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        for notebook in notebooks:
            exercises = key["notebooks"].get(notebook, {}).get("exercises", [])
            prepared = grading.prepare(student, notebook, masters[notebook], folder / f"{notebook}.ipynb",
                                       exercises, prune=not args.no_prune)
            if args.force or not report.already_graded(root, assignment, student, notebook,
                                                       prepared.submission_sha256, judged_with):
                work.append((prepared, exercises))
    return Plan(assignment, judged_with, students, work, len(students) * len(notebooks) - len(work),
                report.load(root, assignment))


def summarize(root: Path, coursedir, plan: Plan, heading: bool) -> None:
    """The assignment's scores after the run, and what a regrade changed."""
    if heading:
        print(f"\n== {plan.assignment} ==")
    if plan.skipped:
        print(f"{plan.skipped} submission(s) were already graded with this key (use --force to regrade)")
    records = [r for r in report.load(root, plan.assignment) if r["student"] in plan.students]
    print(report.summary(report.with_gradebook(records, current_scores(coursedir, plan.assignment))))
    moved = report.changes(plan.before, records)
    if moved:
        print(f"\nwhat changed since the last grading ({len(moved)} notebook(s)):")
        print("\n".join(f"  {line}" for line in moved))


@contextlib.contextmanager
def stop_requested_by_ctrl_c():
    """A first Ctrl-C asks the run to stop once the submission being recorded is written.

    A KeyboardInterrupt raised at an arbitrary point can land inside a gradebook write, or
    inside ``logging`` while it holds its lock, and the run then hangs at exit. So the first
    Ctrl-C only sets an event, checked between submissions; a second one interrupts at once."""
    stop = threading.Event()

    def request(signum, frame):
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\nstopping after the submission in progress (Ctrl-C again to stop at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, request)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def submitting_students(coursedir, assignment: str) -> list[str]:
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def course_directory(root: Path):
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=course.nbgrader_config(root))


def make_executor(jobs: int, dask_scheduler: str | None) -> Executor:
    """Threads are enough locally (each waits on its own sandbox process); Dask spreads them over machines."""
    if dask_scheduler:
        return DaskExecutor(dask_scheduler)
    return ThreadPoolExecutor(max_workers=max(1, jobs))


DASK_CONNECT_SECONDS = 10


class DaskExecutor(Executor):
    """A Dask cluster as a concurrent.futures executor; the client closes with it."""

    def __init__(self, address: str):
        from distributed import Client

        try:
            self.client = Client(address, timeout=DASK_CONNECT_SECONDS)
        except (OSError, TimeoutError) as error:
            sys.exit(f"no Dask scheduler answers at {address} (waited {DASK_CONNECT_SECONDS} s): {error}")
        self.executor = self.client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self.executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.executor.shutdown(wait=wait)
        self.client.close()


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _progress(iterable, total: int):
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc="grading", unit="notebook", file=sys.stderr, disable=total == 0)


if __name__ == "__main__":
    main()
