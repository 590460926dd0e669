"""The student's JupyterLab: the server, nbgrader's extensions, and a chapter run through the server.

``jupyter lab`` from the virtual environment is started headless on 127.0.0.1 (a free port, a
token, the repository as its root, its runtime, configuration, settings and workspace folders in a
temporary directory), exactly once for this module, and stopped at the end -- its kernels and the
whole process group with it, also when a test fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import requests

from bookbuild import cells, layout

CHAPTER = layout.chapters()[0]
NOTEBOOK = CHAPTER.student.relative_to(layout.ROOT).as_posix()   # notebooks/<id>/<id>.ipynb
START_TIMEOUT = 90
CELL_TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, folder: Path):
        jupyter = Path(sys.executable).with_name("jupyter")
        if not jupyter.exists():
            pytest.fail(f"{jupyter} is missing: the tests run from the repository's .venv (`make test`)")
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
                   JUPYTER_CONFIG_DIR=str(folder / "config"))
        self.log = folder / "jupyterlab.log"
        command = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   "--port-retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={layout.ROOT}", "--allow-root",
                   f"--LabApp.workspaces_dir={folder / 'workspaces'}",
                   f"--LabApp.user_settings_dir={folder / 'settings'}",
                   "--LabApp.news_url=None",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        with self.log.open("wb") as log:
            # Its own session, so that the server and its kernels can be stopped as one group.
            self.process = subprocess.Popen(command, cwd=layout.ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {self.token}"

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.http.get(self.url + "api/status", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        pytest.fail(f"jupyter lab did not answer within {START_TIMEOUT} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def sessions(self) -> list[dict]:
        return self.http.get(self.url + "api/sessions", timeout=10).json()

    def close_sessions(self) -> None:
        for session in self.sessions():
            self.http.delete(self.url + f"api/sessions/{session['id']}", timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.close_sessions()
                self.http.post(self.url + "api/shutdown", timeout=10)
                self.process.wait(timeout=20)
            except (requests.RequestException, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):  # whatever is left of the group: kernels included
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
        self.http.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    before = CHAPTER.student.read_bytes()
    server = Lab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()
    assert CHAPTER.student.read_bytes() == before, f"JupyterLab changed {NOTEBOOK}"


def test_server_answers_and_nbgrader_is_enabled(lab):
    status = lab.http.get(lab.url + "api/status", timeout=10)
    assert status.ok and "started" in status.json(), status.text

    # nbgrader's server extension (validate_assignment) answers, at the version of the lab extension.
    import nbgrader

    version = lab.http.get(lab.url + "nbgrader_version", params={"version": nbgrader.__version__}, timeout=10)
    assert version.ok and version.json() == {"success": True}, f"nbgrader server extension: {version.text}"

    # nbgrader's JupyterLab extension is installed and none of its plugins is disabled.
    page = lab.http.get(lab.url + "lab", timeout=30)
    assert page.ok, page.status_code
    config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  page.text, re.S).group(1))
    names = [ext["name"] for ext in config.get("federated_extensions", [])]
    assert "@jupyter/nbgrader" in names, f"nbgrader's lab extension is not installed: {names}"
    disabled = config.get("disabledExtensions", [])
    disabled = list(disabled) if isinstance(disabled, list) else [k for k, v in disabled.items() if v]
    assert not [d for d in disabled if d.startswith("@jupyter/nbgrader")], f"disabled: {disabled}"


def test_student_notebook_runs_through_the_server_kernel(lab):
    model = lab.http.get(lab.url + f"api/contents/{NOTEBOOK}", params={"content": 1}, timeout=30)
    assert model.ok, f"the contents API does not open {NOTEBOOK}: {model.status_code}"
    assert model.json()["type"] == "notebook"
    nb = nbformat.from_dict(model.json()["content"])
    assert len(nb.cells) == len(nbformat.read(CHAPTER.student, as_version=4).cells)
    code = [c for c in nb.cells if c.cell_type == "code" and not cells.is_answer(c) and not cells.is_test(c)]

    session = lab.http.post(lab.url + "api/sessions", timeout=60, json={
        "path": NOTEBOOK, "type": "notebook", "name": Path(NOTEBOOK).name, "kernel": {"name": "python3"}})
    assert session.ok, session.text
    session = session.json()
    try:
        with KernelChannel(lab, session["kernel"]["id"]) as kernel:
            outputs = []
            for i, cell in enumerate(code):
                reply, text, error = kernel.execute(cell.source)
                assert reply == "ok", f"{NOTEBOOK}: code cell {i + 1} failed through the kernel:\n{error}"
                outputs.append(text)
            _, device, _ = kernel.execute(
                "import torch\nprint('cuda' if torch.cuda.is_available() else "
                "'mps' if torch.backends.mps.is_available() else 'cpu')")
    finally:
        lab.http.delete(lab.url + f"api/sessions/{session['id']}", timeout=30)
    assert f"device: {device.strip()}" in outputs[0], f"the first cell printed {outputs[0]!r}"


class KernelChannel:
    """The kernel's websocket channel as a browser uses it: execute_request out, replies and outputs in."""

    def __init__(self, lab: Lab, kernel_id: str):
        import websocket

        self.session = uuid.uuid4().hex
        url = f"ws://127.0.0.1:{lab.port}/api/kernels/{kernel_id}/channels?session_id={self.session}"
        self.ws = websocket.create_connection(url, timeout=CELL_TIMEOUT,
                                              header=[f"Authorization: token {lab.token}"])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.ws.close()

    def execute(self, source: str) -> tuple[str, str, str]:
        """Run one cell; its reply status, its stdout and the traceback of an error, if any."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": "test", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        reply, idle, text, error = None, False, [], ""
        deadline = time.monotonic() + CELL_TIMEOUT
        while reply is None or not idle:  # the reply and the kernel's return to idle, in either order
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply within {CELL_TIMEOUT} s to:\n{source[:300]}")
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["header"]["msg_type"], msg["content"]
            if msg["channel"] == "shell" and kind == "execute_reply":
                reply = content["status"]
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
            elif kind == "stream" and content.get("name") == "stdout":
                text.append(content["text"])
            elif kind == "error":
                error = "\n".join(content.get("traceback", [])) or f"{content.get('ename')}: {content.get('evalue')}"
        return reply, "".join(text), error


@pytest.mark.browser
def test_jupyterlab_shows_nbgrader_validate_button(lab, chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    outside = []

    def leave(route):
        outside.append(route.request.url)
        route.abort()

    try:
        context.route(re.compile(rf"^(?!{re.escape(lab.url)}|ws://127\.0\.0\.1:{lab.port}/)"), leave)
        page = context.new_page()
        page.goto(f"{lab.url}lab/tree/{NOTEBOOK}?token={lab.token}")
        toolbar = page.locator(".jp-NotebookPanel-toolbar").first
        toolbar.wait_for(state="visible", timeout=90_000)
        validate = toolbar.get_by_text("Validate", exact=True)
        try:
            validate.wait_for(state="visible", timeout=30_000)
        except Exception:  # noqa: BLE001
            pytest.fail(f"no nbgrader 'Validate' button in the toolbar of {NOTEBOOK}: {toolbar.inner_text()!r}")
        assert validate.is_enabled()
        assert page.locator(".jp-Notebook .jp-Cell").count() > 0, "the notebook's cells are not shown"
        # JupyterLab starts the notebook's kernel; let it finish starting before it is shut down
        # (a server asked to stop while a kernel starts waits for it).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                s["path"] == NOTEBOOK and s["kernel"]["execution_state"] == "idle" for s in lab.sessions()):
            page.wait_for_timeout(200)  # polling the server, not a check
        kernels = [s["kernel"]["execution_state"] for s in lab.sessions() if s["path"] == NOTEBOOK]
        assert "idle" in kernels, f"JupyterLab did not start the notebook's kernel: {kernels}"
    finally:
        context.close()
        lab.close_sessions()
    assert not outside, f"JupyterLab requested pages outside the server: {outside}"
