"""Every chapter runs top to bottom, cleanly, reproducibly and within its time budget."""

from __future__ import annotations

import nbformat
import pytest

from bookbuild import execute, layout, portability

CPU_BUDGET_SECONDS = 60


def test_chapter_runs_within_budget(executed, chapter):
    """Judged on the kernel's CPU seconds (one thread), which a busy machine does not inflate
    the way it inflates wall time."""
    seconds = executed[chapter.id].metadata["bookbuild"]["cpu_seconds"]
    assert seconds <= CPU_BUDGET_SECONDS, f"{chapter.id} used {seconds:.1f} CPU seconds"


def test_chapter_output_has_no_errors_or_warnings(executed, chapter):
    for index, cell in enumerate(executed[chapter.id].cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {index} raised {output.get('ename')}"
            assert not (output.output_type == "stream" and output.name == "stderr"), f"cell {index} wrote to stderr"


def test_every_cell_ran(executed, chapter):
    code = [c for c in executed[chapter.id].cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)


def test_device_is_chosen_at_run_time(executed, chapter):
    first = next(c for c in executed[chapter.id].cells if c.cell_type == "code")
    text = "".join(o.get("text", "") for o in first.outputs)
    assert text.startswith("device: ") and text.split()[1] in ("cpu", "cuda", "mps")


def test_reference_solutions_pass_visible_and_hidden_tests(executed, chapter):
    """Test cells ran in the source with their hidden block (self-check mode) and raised nothing."""
    from bookbuild import cells

    tests = [c for c in executed[chapter.id].cells if cells.is_test(c)]
    assert tests
    for cell in tests:
        assert cells.has_hidden_tests(cell) and cell.execution_count is not None
        assert not any(o.output_type == "error" for o in cell.outputs)


def test_outputs_are_reproducible(reruns, chapter):
    """nbval runs the chapter again: every output (text, numbers, SVG figures) comes out the same."""
    returncode, report = reruns[chapter.id]
    assert returncode == 0, f"{chapter.id} is not reproducible:\n{report}"


def test_nbval_notices_an_unseeded_output(nbval_rerun, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os\nprint(os.urandom(4).hex())", execution_count=1,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="00000000\n")])])
    nbformat.write(notebook, tmp_path / "unseeded.ipynb")
    returncode, report = nbval_rerun(tmp_path / "unseeded.ipynb")
    assert returncode != 0 and "00000000" in report


def test_chapter_holds_in_another_numeric_environment(elsewhere, chapter):
    """Another seed, thread count and set of CPU kernels (bookbuild/portability.py): every assert still
    holds, and the reference still passes its hidden tests against the key the build recorded."""
    assert elsewhere[chapter.id] is None, elsewhere[chapter.id][-3000:]


# --- The portability check itself catches what it is for ---------------------------------------------

SAMPLE_MEAN = "sample_mean = torch.randn(10_000).mean().item()\nprint(repr(sample_mean))"
FIXED_SUM = ("fixed = np.random.default_rng(123).standard_normal(100_000).astype(np.float32)\n"
             "fixed_sum = torch.from_numpy(fixed).sum().item()\nprint(repr(fixed_sum))")


def _planted_chapter(tmp_path, monkeypatch, measure: str, check_of) -> layout.Chapter:
    """A one-exercise-free chapter in a scratch solutions/ folder whose last cell asserts what
    ``measure`` printed in the build's environment, as ``check_of(printed)`` writes the assert."""
    from bookbuild import conventions

    monkeypatch.setattr(layout, "SOLUTIONS", tmp_path / "solutions")
    chapter = layout.Chapter("ch99_planted")
    chapter.source.parent.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(conventions.SETUP_CELL),
                                         nbformat.v4.new_code_cell(measure)])
    execute.run_notebook(nb, chapter.source.parent, environment={**execute.kernel_environment(1), "BOOK_SEED": "0"})
    printed = nb.cells[1].outputs[0]["text"].strip()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(conventions.SETUP_CELL),
                                         nbformat.v4.new_code_cell(measure),
                                         nbformat.v4.new_code_cell(check_of(printed))])
    nbformat.write(nb, chapter.source)
    execute.run_notebook(nbformat.read(chapter.source, as_version=4), chapter.source.parent,
                         environment={**execute.kernel_environment(1), "BOOK_SEED": "0"})  # holds in the build
    return chapter


def _elsewhere_error(chapter, tmp_path) -> str | None:
    records = tmp_path / "records.jsonl"
    records.write_text("")
    (tmp_path / "scratch").mkdir()
    try:
        portability.run_elsewhere(chapter, records, tmp_path / "scratch", build_threads=1)
    except execute.ExecutionError as error:
        return str(error)
    return None


def test_portability_check_fails_a_sample_mean_asserted_to_its_digits(tmp_path, monkeypatch):
    chapter = _planted_chapter(tmp_path, monkeypatch, SAMPLE_MEAN,
                               lambda printed: f"assert abs(sample_mean - {printed}) < 1e-7")
    error = _elsewhere_error(chapter, tmp_path)
    assert error and "AssertionError" in error and "BOOK_SEED=1" in error


def test_portability_check_fails_a_float32_sum_asserted_bit_for_bit(tmp_path, monkeypatch):
    import torch

    if torch.backends.cpu.get_cpu_capability() == "DEFAULT":
        pytest.skip("this CPU already runs PyTorch's generic kernels: the sum has no other order to take")
    chapter = _planted_chapter(tmp_path, monkeypatch, FIXED_SUM, lambda printed: f"assert fixed_sum == {printed}")
    error = _elsewhere_error(chapter, tmp_path)
    assert error and "AssertionError" in error


def test_portability_check_passes_a_tolerance_chosen_from_the_spread(tmp_path, monkeypatch):
    """The mean of 10,000 standard normals has standard deviation 0.01: 0.05 is five of them."""
    chapter = _planted_chapter(tmp_path, monkeypatch, SAMPLE_MEAN + "\n" + FIXED_SUM,
                               lambda printed: "assert abs(sample_mean) < 0.05\n"
                                               "assert abs(fixed_sum - float(fixed.astype(np.float64).sum())) < 1e-2")
    assert _elsewhere_error(chapter, tmp_path) is None


def test_the_cache_key_covers_every_grader_module_a_kernel_loads():
    """A hidden test imports the authoring API; every autograder module that brings in is part of
    the executed chapters' cache key, and the grader's other modules (edited often) are not."""
    import subprocess
    import sys

    probe = ("import sys, autograder.authoring; from autograder import formula  # formula: judging a Formula\n"
             "print(' '.join(m.split('.')[1] for m in sys.modules if m.startswith('autograder.')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=layout.ROOT).stdout.split()
    keyed = {path.stem for path in execute.kernel_modules()}
    assert set(loaded) <= keyed and "authoring" in keyed
    assert not {"report", "sandbox", "grading"} & keyed
