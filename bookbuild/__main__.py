"""Command line of the book builder: ``python -m bookbuild COMMAND``.

    all          execute stale chapters, then build every language (what `make book` runs)
    execute      execute chapters into _build/executed/ (cached; --force re-runs)
    release      regenerate the student notebooks in notebooks/ with nbgrader
    html         build the HTML of every language from the executed chapters
    check        check the sources against the chapter conventions (fast, runs nothing)
    zh-hans      list the words the Simplified Chinese edition changes, for review
    timings      print each chapter's CPU execution time (the README table)
    gpu-run      execute every chapter on CUDA and print the timings (`make test-gpu`)
    portability  run chapters again with another seed, thread count and CPU kernels (as `make test` does)
    pdf          print the whole book of each edition (or those named) into _build/pdf/ and the site (`make pdf`)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

from . import cells, conventions, execute, layout, release, site
from .languages import LANGUAGES, ZH_TAG, phrase_changes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bookbuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    jobs = max(1, min(2, os.cpu_count() or 1))

    for name in ("all", "html"):
        p = sub.add_parser(name)
        p.add_argument("--solutions", choices=("show", "omit"), default="show",
                       help="'omit' leaves reference solutions out of every page")
        p.add_argument("--jobs", type=int, default=jobs)
    p = sub.add_parser("html-language")
    p.add_argument("code")
    p.add_argument("--solutions", choices=("show", "omit"), default="show")
    p = sub.add_parser("execute")
    p.add_argument("chapters", nargs="*")
    p.add_argument("--force", action="store_true")
    p.add_argument("--jobs", type=int, default=jobs)
    p = sub.add_parser("release")
    p.add_argument("chapters", nargs="*")
    sub.add_parser("check")
    p = sub.add_parser("zh-hans")
    p.add_argument("chapters", nargs="*")
    sub.add_parser("timings")
    sub.add_parser("gpu-run")
    p = sub.add_parser("portability")
    p.add_argument("chapters", nargs="*")
    p = sub.add_parser("pdf")
    p.add_argument("editions", nargs="*", help=f"some of {', '.join(lang.code for lang in LANGUAGES)} (default: all)")

    args = parser.parse_args(argv)
    chapters = [layout.chapter(c) for c in getattr(args, "chapters", [])] or layout.chapters()

    if args.command in ("all", "execute"):
        ran = execute.execute_all(chapters, jobs=args.jobs, force=getattr(args, "force", False))
        for chapter_id, seconds in ran.items():
            print(f"executed {chapter_id} in {seconds:.1f} s")
    if args.command in ("all", "html"):
        index = site.build(args.solutions, jobs=args.jobs)
        print(f"\nThe book is built. Open {index} in a browser"
              f" (or serve it: python -m http.server -d {index.parent}).")
    elif args.command == "html-language":
        site.build_language(args.code, args.solutions)
    elif args.command == "release":
        release.generate(chapters)
        print(f"released {len(chapters)} student notebook(s) into {layout.NOTEBOOKS}")
    elif args.command == "check":
        problems = [p for chapter in chapters for p in conventions.chapter_problems(chapter)]
        print("\n".join(problems) or f"{len(chapters)} chapter(s) follow the conventions")
        sys.exit(1 if problems else 0)
    elif args.command == "zh-hans":
        for chapter in chapters:
            text = "\n".join(c.source for c in nbformat.read(chapter.source, as_version=4).cells
                             if cells.prose_tag(c) == ZH_TAG)
            for before, after in phrase_changes(text):
                print(f"{chapter.id}: {before!r} -> {after!r}")
    elif args.command == "timings":
        print_timings(chapters)
    elif args.command == "gpu-run":
        gpu_run(chapters)
    elif args.command == "portability":
        check_portability(chapters)
    elif args.command == "pdf":
        from . import pdf, pdf_link  # pdf imports pypdf and Playwright, which the other commands do not need

        for path in pdf.build(args.editions):
            print(f"{path} ({path.stat().st_size / 1e6:.1f} MB), in the site as {pdf_link.SITE_FOLDER}/{path.name}")


def print_timings(chapters: list[layout.Chapter]) -> None:
    print("| chapter | CPU seconds |\n|---|---|")
    for chapter in chapters:
        seconds = execute.executed(chapter).metadata["bookbuild"]["cpu_seconds"]
        print(f"| {chapter.id} | {seconds:.1f} |")


def gpu_run(chapters: list[layout.Chapter]) -> None:
    """Run every chapter on CUDA, one at a time with all cores, and print the timings.

    The runs are kept apart from the CPU build cache, so the book keeps the outputs of
    the machine that builds it."""
    import tempfile

    import torch

    if not torch.cuda.is_available():
        sys.exit("make test-gpu needs a CUDA device, and torch sees none on this machine")
    print(f"CUDA device: {torch.cuda.get_device_name(0)}\n\n| chapter | CUDA seconds |\n|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for chapter in chapters:
            nb, seconds, _ = execute.run_chapter(chapter, Path(scratch) / f"{chapter.id}.key.jsonl",
                                                 threads=os.cpu_count() or 1)
            first = next(c for c in nb.cells if c.cell_type == "code")
            if "device: cuda" not in "".join(o.get("text", "") for o in first.outputs):
                sys.exit(f"{chapter.id} did not choose the CUDA device")
            print(f"| {chapter.id} | {seconds:.1f} |", flush=True)


def check_portability(chapters: list[layout.Chapter]) -> None:
    """Execute each chapter (cached), then run it in the other numeric environment; stop at a failure."""
    import tempfile

    from . import portability

    execute.execute_all(chapters, jobs=1)
    for chapter in chapters:
        with tempfile.TemporaryDirectory() as scratch:
            try:
                seconds = portability.run_elsewhere(chapter, execute.key_records(chapter), Path(scratch),
                                                    build_threads=execute.KERNEL_THREADS)
            except execute.ExecutionError as error:
                sys.exit(str(error))
        print(f"{chapter.id} holds in another numeric environment ({seconds:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
