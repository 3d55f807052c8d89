"""Warm kernels (analysis.pipeline.WarmKernel): a notebook run in a kernel that ran others sees a fresh kernel's state."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from analysis import pipeline

LEAKY = [
    "leaked = 'from the first notebook'",
    "import os, sys, warnings, matplotlib, matplotlib.pyplot as plt\n"
    "os.chdir('/')\n"
    "os.environ['U4SSC_LEAK'] = '1'\n"
    "sys.path.insert(0, '/nowhere')\n"
    "matplotlib.rcParams['lines.linewidth'] = 9.0\n"
    "left_open = plt.figure()",
    "import warnings\nwarnings.warn('shown once per location', UserWarning)\nwarnings.simplefilter('ignore')",
]
PROBE = [
    "print('leaked' in globals(), 'left_open' in globals())",
    "import os, sys, warnings, matplotlib, matplotlib.pyplot as plt\n"
    "print(os.getcwd() == ROOT, 'U4SSC_LEAK' in os.environ, '/nowhere' in sys.path)\n"
    "print(matplotlib.rcParams['lines.linewidth'], plt.get_fignums())\n"
    "print(any(f[:3] == ('ignore', None, Warning) for f in warnings.filters))",
    "import warnings\nwarnings.warn('shown once per location', UserWarning)",
    # every notebook of the project imports the package (analysis.present sets seaborn's theme), as the warm-up does
    "from analysis import present\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
    "plt.title('shown by the inline backend')",
]


def notebook(cells: list[str], path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("ROOT = ''", metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def outputs(path: Path) -> list[tuple[int | None, str]]:
    """Execution count and outputs of every code cell (what a reader and nbval see), without the kernel's pid
    (in the name of the file a warning points to, ``/tmp/ipykernel_<pid>/``)."""
    nb = nbformat.read(path, as_version=4)
    return [(c.execution_count, re.sub(r"ipykernel_\d+", "ipykernel_<pid>", json.dumps(c.outputs)))
            for c in nb.cells if c.cell_type == "code"]


def test_a_warm_kernel_after_a_leaky_notebook_gives_a_fresh_kernels_outputs(tmp_path):
    leaky, probe = notebook(LEAKY, tmp_path / "leaky.ipynb"), notebook(PROBE, tmp_path / "probe.ipynb")
    root = {"ROOT": str(pipeline.paths.ROOT)}
    pipeline.execute(str(probe), root, tmp_path / "fresh.ipynb")  # a kernel of its own
    kernel = pipeline.WarmKernel()
    try:
        kernel.run(str(leaky), root, tmp_path / "leaky-out.ipynb")
        kernel.run(str(probe), root, tmp_path / "warm.ipynb")
        kernel.run(str(probe), root, tmp_path / "warm-again.ipynb")
    finally:
        kernel.close()
    fresh = outputs(tmp_path / "fresh.ipynb")
    assert [count for count, _ in fresh] == [1, 2, 3, 4, 5, 6]  # papermill adds the injected parameters cell
    assert json.loads(fresh[2][1])[0]["text"] == "False False\n"
    assert json.loads(fresh[3][1])[0]["text"].splitlines() == ["True False False", "1.5 []", "False"]
    assert "UserWarning" in json.loads(fresh[4][1])[0]["text"]  # the warning is shown in a fresh kernel
    assert "image/png" in json.loads(fresh[5][1])[-1]["data"]
    assert outputs(tmp_path / "warm.ipynb") == fresh
    assert outputs(tmp_path / "warm-again.ipynb") == fresh


def test_a_failing_notebook_retires_its_kernel(tmp_path):
    failing = notebook(["raise ValueError('planted')"], tmp_path / "failing.ipynb")
    pool = pipeline.KernelPool()
    try:
        with pytest.raises(Exception, match="planted"):
            pool.execute(str(failing), {"ROOT": ""}, tmp_path / "out.ipynb")
        assert pool._all == []
    finally:
        pool.shutdown()


@pytest.mark.slow
def test_a_profile_in_a_warm_kernel_after_another_equals_it_in_a_fresh_kernel(tmp_path):
    first, second = pipeline.municipality_slugs()[:2]
    fresh, warm = tmp_path / "fresh", tmp_path / "warm"

    def parameters(slug: str, out: Path) -> dict:
        return pipeline.profile_parameters(slug, None, out / "profiles" / f"{slug}.ipynb")

    pipeline.execute("profile", parameters(second, fresh), fresh / "profiles" / f"{second}.ipynb")
    pool = pipeline.KernelPool()
    try:
        for slug in (first, second):
            pool.execute("profile", parameters(slug, warm), warm / "profiles" / f"{slug}.ipynb")
        assert len(pool._all) == 1
    finally:
        pool.shutdown()
    a = pipeline.without_volatile(nbformat.read(fresh / "profiles" / f"{second}.ipynb", as_version=4))
    b = pipeline.without_volatile(nbformat.read(warm / "profiles" / f"{second}.ipynb", as_version=4))
    # the output folders differ in the injected parameters only
    assert json.dumps(b.cells, sort_keys=True).replace(str(warm), str(fresh)) == json.dumps(a.cells, sort_keys=True)
    for table in sorted((fresh / "tables" / second).glob("*.csv")):
        assert table.read_bytes() == (warm / "tables" / second / table.name).read_bytes()
