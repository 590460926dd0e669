"""Every chapter runs top to bottom, cleanly, reproducibly and within its time budget."""

from __future__ import annotations

import nbformat

CPU_BUDGET_SECONDS = 60


def test_chapter_runs_within_budget(executed, chapter):
    seconds = executed[chapter.id].metadata["bookbuild"]["seconds"]
    assert seconds <= CPU_BUDGET_SECONDS, f"{chapter.id} took {seconds:.1f} s"


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
