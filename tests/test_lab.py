"""Working interactively: the .py notebooks open as notebooks in JupyterLab, and saving them changes nothing.

The repository's Jupyter configuration lives in ``.jupyter/`` (installed into the venv by ``make
setup``). These tests read that configuration itself: the contents manager it names, a real
Jupyter server started on a free local port with it, and JupyterLab's settings API.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from traitlets.config.loader import JSONFileConfigLoader
from traitlets.utils.importstring import import_item

from analysis.paths import ROOT

CONFIG = ROOT / ".jupyter"
NOTEBOOKS = ["profile.py", "synthesis.py", "tutorial.py"]


def contents_manager_class():
    config = JSONFileConfigLoader("jupyter_server_config.json", str(CONFIG)).load_config()
    return import_item(config.ServerApp.contents_manager_class)


def test_the_configured_contents_manager_is_jupytexts():
    from jupyter_server.services.contents.manager import ContentsManager
    cls = contents_manager_class()
    assert issubclass(cls, ContentsManager)
    assert cls.__module__.startswith("jupytext")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_py_notebook_opens_as_a_notebook(name):
    manager = contents_manager_class()(root_dir=str(ROOT))
    model = manager.get(f"notebooks/{name}")
    assert model["type"] == "notebook" and model["format"] == "json"
    cells = model["content"]["cells"]
    assert any(c["cell_type"] == "markdown" for c in cells)
    parameters = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameters) == 1 and "output_dir" in parameters[0]["source"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_opening_and_saving_leaves_the_source_unchanged(tmp_path, name):
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    (tmp_path / "notebooks").mkdir()
    source = ROOT / "notebooks" / name
    shutil.copy(source, tmp_path / "notebooks" / name)
    manager = contents_manager_class()(root_dir=str(tmp_path))
    model = manager.get(f"notebooks/{name}")
    manager.save(model, f"notebooks/{name}")
    assert (tmp_path / "notebooks" / name).read_bytes() == source.read_bytes()
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == [name]  # no paired .ipynb appears


def test_jupyterlab_opens_py_files_with_the_jupytext_notebook_viewer():
    overrides = json.loads((CONFIG / "labconfig" / "default_setting_overrides.json").read_text(encoding="utf-8"))
    viewer = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"]
    assert viewer == "Jupytext Notebook"
    # the name must be the one jupytext's JupyterLab extension registers its notebook factory under
    static = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext" / "static"
    assert any(viewer in p.read_text(encoding="utf-8", errors="replace") for p in static.glob("*.js"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture
def lab_server(tmp_path):
    """JupyterLab's server on a free local port, configured only by the repository's .jupyter folder."""
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "user-config"), "JUPYTER_CONFIG_PATH": str(CONFIG),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    exe = Path(sys.executable).parent / "jupyter-lab"
    proc = subprocess.Popen([str(exe), "--no-browser", f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
                             "--ServerApp.port_retries=0", "--allow-root"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {proc.stderr.read() if proc.poll() is not None else 'timeout'}")
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_running_server_serves_profile_py_as_a_notebook_with_the_jupytext_viewer(lab_server):
    base, token = lab_server
    model = get(f"{base}/api/contents/notebooks/profile.py", token)
    assert model["type"] == "notebook"
    assert any("parameters" in c["metadata"].get("tags", []) for c in model["content"]["cells"])
    settings = get(f"{base}/lab/api/settings/@jupyterlab/docmanager-extension:plugin", token)
    # the override is the plugin's default, which the user's own settings may still change
    assert settings["schema"]["properties"]["defaultViewers"]["default"]["python"] == "Jupytext Notebook"


def test_a_notebook_run_from_its_own_folder_writes_below_the_repository_root(tmp_path, monkeypatch):
    """A relative ``output_dir`` means the repository's folder, wherever the kernel's working directory is."""
    from analysis import paths, profile

    relative = f"reports/runs/.test-{secrets.token_hex(4)}"  # ignored by git, removed below
    monkeypatch.chdir(tmp_path)  # as when JupyterLab runs notebooks/profile.py in notebooks/
    try:
        from analysis import params
        prof = profile.build(params.load("Aukra", ["invest.draws=20"]), relative)
        assert (ROOT / relative / "profiles" / f"{prof.provenance['slug']}.provenance.json").is_file()
        assert list(tmp_path.iterdir()) == []  # no stray reports/ beside the notebook
    finally:
        shutil.rmtree(ROOT / relative, ignore_errors=True)
    assert paths.from_root(tmp_path / "elsewhere") == tmp_path / "elsewhere"  # an absolute path stays
