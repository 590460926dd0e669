"""Run at the start of every kernel the book's build runs a chapter in (``PYTHONSTARTUP``, set by
``execute.kernel_environment``), never in a student's: each displayed matplotlib figure also carries
its drawings for the Chinese editions (``figure_words.draw_editions``), as one more entry of the
output's data that the views pick from. It is drawn with the options of the inline backend's SVG
(tight bounding box, no date), so the editions' figures match the English one but for their words.

The figures a chapter saves into a buffer with ``savefig`` (the precomputed states of a control, kept
in ``widgets.HTML``) are never displayed: when the build names a file in
``widget_words.ENVIRONMENT``, each such picture is recorded there with the same figure saved with the
same arguments for each Chinese edition (``widget_words.record``), for the views to swap in.

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


def _record_saved_pictures() -> None:
    import functools
    import io
    import os

    from matplotlib.figure import Figure

    from bookbuild import widget_words

    path = os.environ.get(widget_words.ENVIRONMENT)
    if not path:
        return
    savefig = Figure.savefig

    @functools.wraps(savefig)
    def recording_savefig(figure, fname, *args, **kwargs):
        if not isinstance(fname, (io.BytesIO, io.StringIO)):  # a file of the chapter's: no widget's picture
            return savefig(figure, fname, *args, **kwargs)
        start = fname.tell()
        saved = savefig(figure, fname, *args, **kwargs)

        def draw(edition):
            buffer = type(fname)()
            savefig(edition, buffer, *args, **kwargs)
            return buffer.getvalue()

        widget_words.record(path, figure, fname.getvalue()[start:], draw)
        return saved

    Figure.savefig = recording_savefig


_install()
_record_saved_pictures()
del _install, _record_saved_pictures, _get_ipython
