"""Run at the start of every kernel the book's build runs a chapter in (``PYTHONSTARTUP``, set by
``execute.kernel_environment``), never in a student's: each displayed matplotlib figure also carries
its drawings for the Chinese editions (``figure_words.draw_editions``), as one more entry of the
output's data that the views pick from. It is drawn with the options of the inline backend's SVG
(tight bounding box, no date), so the editions' figures match the English one but for their words.

The file runs in the notebook's namespace, so it leaves no name behind.
"""

from IPython import get_ipython as _get_ipython


def _install() -> None:
    from IPython.core.formatters import JSONFormatter
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import FigureBase

    from bookbuild import figure_words

    shell = _get_ipython()
    if shell is None:
        return
    formatter = JSONFormatter(parent=shell.display_formatter)
    formatter.format_type = figure_words.EDITIONS_KEY
    draw = lambda figure: print_figure(figure, "svg", bbox_inches="tight", metadata={"Date": None})  # noqa: E731
    # For Figure's base class: choosing the figure formats (the setup cell's set_matplotlib_formats)
    # removes every formatter's entry for Figure itself.
    formatter.for_type(FigureBase, lambda figure: figure_words.draw_editions(figure, draw) or None)
    shell.display_formatter.formatters[figure_words.EDITIONS_KEY] = formatter


_install()
del _install, _get_ipython
