"""A deterministic on-disk cache of panel assessments, shared by the profile notebooks of one build.

Every profile assesses the whole panel; the 17 default profiles use the same assessment-relevant
parameters, so the panel is assessed once and the others load the pickled result. The key is a
hash of the parameters (all of them except the municipality, which ``assess`` does not use), of
every input file (raw data, ingested city data, the processed observations), of the package's
source code and of the library versions; the file is written atomically, so parallel notebooks
never read a partial file (two that miss at once both compute and write the same result). Files
of an older data or code version are removed when a new one is written. A loaded assessment is
given the caller's own parameters (``Assessment.params``), so provenance is exactly as without the
cache. Set ``U4SSC_NO_CACHE=1`` to bypass it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import platform
import sys
from pathlib import Path
from typing import Any

from analysis import paths
from analysis.files import atomic_path

CACHE = paths.PROCESSED / "cache"
_IGNORED = ("municipality",)
_VERSIONS: dict[tuple, str] = {}


def enabled() -> bool:
    return os.environ.get("U4SSC_NO_CACHE", "") not in ("1", "true", "yes")


def _hash_files(files: list[Path], digest) -> None:
    for file in files:
        digest.update(str(file.relative_to(paths.ROOT)).encode("utf-8"))
        digest.update(file.read_bytes() if file.exists() else b"<missing>")


def version_key() -> str:
    """Hash of the inputs and code an assessment depends on (recomputed when a file changes size or time)."""
    files = (sorted(paths.RAW.glob("*.csv")) + sorted(paths.CITY_SUPPLIED.glob("*.csv"))
             + [paths.PROCESSED / "observations.csv"] + sorted((paths.ROOT / "analysis").glob("*.py")))
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else (str(f),) for f in files)
    if stamp not in _VERSIONS:
        import numpy
        import pandas
        import scipy
        digest = hashlib.sha256()
        digest.update(f"{sys.version}|{platform.machine()}|{numpy.__version__}|{pandas.__version__}|"
                      f"{scipy.__version__}".encode())
        _hash_files(files, digest)
        _VERSIONS.clear()
        _VERSIONS[stamp] = digest.hexdigest()[:20]
    return _VERSIONS[stamp]


def params_key(values: dict[str, Any]) -> str:
    """Hash of the parameters that can affect the assessment (all but the municipality)."""
    relevant = {k: v for k, v in values.items() if k not in _IGNORED}
    text = json.dumps(relevant, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def assessment(values: dict[str, Any], panel=None, compute=None):
    """The panel assessment under ``values``: loaded from the cache, or computed and stored."""
    from analysis.assess import assess

    compute = compute or (lambda: assess(values, panel=panel))
    if not enabled():
        return compute()
    version = version_key()
    path = CACHE / f"assessment-{version}-{params_key(values)}.pkl"
    if path.exists():
        try:
            with open(path, "rb") as f:
                cached = pickle.load(f)
            return dataclasses.replace(cached, params=values)
        except Exception:  # unreadable (e.g. written by another library version): recompute
            pass
    result = compute()
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        for old in CACHE.glob("assessment-*.pkl"):
            if not old.name.startswith(f"assessment-{version}-"):
                old.unlink(missing_ok=True)
    except OSError:  # a read-only checkout still works, only slower
        pass
    return result
