# One entry point for humans and CI. `make all` sets up .venv and builds every profile and report;
# `make test` runs the test suite. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORES ?= 2

.PHONY: all setup lab data report check-site test test-fast bench golden clean

all: setup
	$(PY) -m analysis all --cores $(CORES)

setup: $(VENV)/.installed

# .jupyter/ holds the Jupyter configuration of the repository (jupytext's contents manager, and .py
# notebooks opening as notebooks on a double click in JupyterLab); it is installed into the venv.
JUPYTER_CONFIG := .jupyter/jupyter_server_config.json .jupyter/labconfig/default_setting_overrides.json

$(VENV)/.installed: pyproject.toml $(JUPYTER_CONFIG)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	mkdir -p $(VENV)/etc/jupyter/labconfig
	cp .jupyter/jupyter_server_config.json $(VENV)/etc/jupyter/
	cp .jupyter/labconfig/default_setting_overrides.json $(VENV)/etc/jupyter/labconfig/
	touch $@

# JupyterLab on the repository: double-click notebooks/profile.py, change the parameters cell, run.
lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root)

data: setup
	$(PY) -m analysis build

report: setup
	$(PY) -m analysis report

check-site: setup
	$(PY) -m analysis.browser reports/site --screenshots reports/_build/screenshots

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

bench: setup
	$(PY) bench/run.py

golden: setup
	$(PY) -m analysis golden

# Removes rebuildable outputs only. City-supplied data lives in data/external/city_supplied (paths.CITY_SUPPLIED)
# and is never removed; a folder left in the old place (data/processed/city_supplied) is moved there first.
clean:
	@if [ -d data/processed/city_supplied ]; then $(PYTHON) -c "from analysis import paths; paths.migrate_city_supplied()"; fi
	@if [ -d data/processed/city_supplied ]; then echo "error: data/processed/city_supplied is still there; nothing removed" >&2; exit 1; fi
	rm -rf data/processed/* reports/site reports/executed reports/profiles reports/synthesis .snakemake
	touch data/processed/.gitkeep
