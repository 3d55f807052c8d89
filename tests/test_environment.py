"""environment.yml and pyproject.toml agree: versions are pinned once, in pyproject.toml."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from analysis.paths import ROOT


@pytest.fixture(scope="module")
def project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["project"]


@pytest.fixture(scope="module")
def env() -> dict:
    with (ROOT / "environment.yml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def conda_and_pip(env: dict) -> tuple[list[str], list[str]]:
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, dep
            pip.extend(dep["pip"])
        else:
            conda.append(str(dep))
    return conda, pip


EDITABLE = re.compile(r"^-e\s+\.(?:\[(?P<extras>[^\]]*)\])?$")


def test_pip_section_installs_the_project_with_existing_extras(env, project):
    _, pip = conda_and_pip(env)
    assert len(pip) == 1, f"pip section should only install the project, found {pip}"
    match = EDITABLE.match(pip[0].strip())
    assert match, f"expected '-e .[extras]', found {pip[0]!r}"
    extras = [e.strip() for e in (match["extras"] or "").split(",") if e.strip()]
    assert extras, "install the test extra at least"
    assert set(extras) <= set(project["optional-dependencies"])
    assert "test" in extras


def test_conda_section_pins_nothing_but_python(env):
    conda, _ = conda_and_pip(env)
    names = [re.split(r"[=<>!~ ]", c, maxsplit=1)[0] for c in conda]
    assert "python" in names and "pip" in names
    assert set(names) == {"python", "pip"}, f"packages belong in pyproject.toml: {conda}"
    assert "pip" in conda, "pip itself is not pinned"


def test_python_version_satisfies_requires_python(env, project):
    conda, _ = conda_and_pip(env)
    (python,) = [c for c in conda if c.startswith("python")]
    match = re.fullmatch(r"python\s*=+\s*(\d+)\.(\d+)(?:\.\*)?", python)
    assert match, f"pin python to a minor version, found {python!r}"
    spec = SpecifierSet(project["requires-python"])
    major, minor = match.groups()
    # conda's 'python=3.11' means any 3.11.x: all of those must be allowed
    for patch in (0, 99):
        assert Version(f"{major}.{minor}.{patch}") in spec, (python, str(spec))


def all_requirements(project: dict) -> list[tuple[str, Requirement]]:
    reqs = [("dependencies", Requirement(r)) for r in project["dependencies"]]
    for extra, items in project.get("optional-dependencies", {}).items():
        reqs += [(extra, Requirement(r)) for r in items]
    return reqs


def test_every_dependency_is_pinned_exactly(project):
    reqs = all_requirements(project)
    assert len(reqs) > 0
    for where, req in reqs:
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{where}: {req} is not pinned with =="
        assert "*" not in specs[0].version, f"{where}: {req} uses a wildcard"


def test_no_package_is_listed_twice(project):
    names = [req.name.lower().replace("_", "-") for _, req in all_requirements(project)]
    assert len(names) == len(set(names))


def test_quarto_only_in_an_optional_extra(project):
    def names(items):
        return {Requirement(r).name.lower() for r in items}
    assert "quarto-cli" not in names(project["dependencies"])
    extras_with_quarto = [e for e, items in project["optional-dependencies"].items() if "quarto-cli" in names(items)]
    assert extras_with_quarto, "quarto-cli should be available as an optional extra"


def test_environment_does_not_need_quarto(env, project):
    # PyPI's quarto-cli downloads a binary at build time; the conda environment must build offline
    _, pip = conda_and_pip(env)
    extras = EDITABLE.match(pip[0].strip())["extras"].split(",")
    for extra in extras:
        assert "quarto-cli" not in {Requirement(r).name.lower()
                                    for r in project["optional-dependencies"][extra.strip()]}
