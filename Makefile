# The two commands of this repository are `make book` and `make test`.
# Each one does its own set-up: the Debian packages it needs and a virtual
# environment in .venv/ from requirements.txt.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k rnn"`.
PYTEST_ARGS ?=
# pytest-xdist workers for `make test`. 0 (one process) is the fastest on two cores: two workers took
# longer there, both cores being busy already. With more, tests/conftest.py's lanes let each worker
# do its share of the costly shared work once.
TEST_WORKERS ?= 0
# `make book SOLUTIONS=omit` leaves reference solutions out of every page.
SOLUTIONS ?= show

# The Chinese editions' figures are drawn with Noto Sans CJK (bookbuild/kernel_startup.py).
BOOK_DEBIAN_PACKAGES := fonts-noto-cjk
# poppler-utils: tests/test_pdf.py reads the PDFs' text with pdftohtml.
TEST_DEBIAN_PACKAGES := bubblewrap chromium fonts-noto-cjk poppler-utils
# The PDF is printed by headless Chromium; the Chinese editions are set in Noto Sans CJK.
PDF_DEBIAN_PACKAGES := chromium fonts-noto-cjk

.PHONY: help setup setup-test book pdf test test-pdf test-gpu bench-grade release clean

help:
	@echo "make book         build the HTML book (all languages) into _build/html/"
	@echo "make pdf          the whole book as a PDF per language, in _build/pdf/ and the site"
	@echo "make test         run the whole test suite"
	@echo "make test-pdf     the PDF tests on all three editions (make test prints one)"
	@echo "make test-gpu     execute every chapter on CUDA and report timings"
	@echo "make bench-grade  grade 100 generated submissions, ours vs plain nbgrader"
	@echo "make release      regenerate the student notebooks in notebooks/"

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/ensure-debian-packages python3-venv
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

setup: $(VENV)/.installed

setup-test: setup
	@scripts/ensure-debian-packages $(TEST_DEBIAN_PACKAGES)

book: setup
	@scripts/ensure-debian-packages $(BOOK_DEBIAN_PACKAGES)
	$(PY) -m bookbuild all --solutions $(SOLUTIONS)

# The pages are built again once the PDFs are in the site: each page then links to its edition's PDF.
pdf: book
	@scripts/ensure-debian-packages $(PDF_DEBIAN_PACKAGES)
	$(PY) -m bookbuild pdf
	$(PY) -m bookbuild html --solutions $(SOLUTIONS)

test: setup-test
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-pdf: setup-test
	BOOK_PDF_EDITIONS=all $(PY) -m pytest tests/test_pdf.py $(PYTEST_ARGS)

test-gpu: setup
	$(PY) -m bookbuild gpu-run

bench-grade: setup-test
	$(PY) -m autograder.bench --submissions 100

release: setup
	$(PY) -m bookbuild release

clean:
	rm -rf _build
