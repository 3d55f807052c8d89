"""Immutable, dated snapshots of fetched national statistics under ``data/external/<provider>/<retrieval time>/``.

A snapshot folder holds ``values.parquet`` (every fetched number, :data:`.providers.ROW_COLUMNS`),
the response texts under ``responses/`` and ``manifest.json`` (each request's URL, query,
retrieval time, cache use and the SHA-256 of its text). It is written in a hidden temporary
folder and renamed into place only when complete, so a failed fetch leaves nothing; an existing
snapshot is never overwritten or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.errors import InputError
from analysis.national.providers import ROW_COLUMNS, Answer

ROOT = paths.ROOT / "data" / "external"
VALUES = "values.parquet"
MANIFEST = "manifest.json"


def stamp(moment: datetime | None = None) -> str:
    """A folder name for a retrieval time: ``2026-12-01T163000Z`` (UTC, sortable, no colons)."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")


def write(provider: str, answers: list[Answer], meta: dict, root: Path | None = None,
          moment: datetime | None = None) -> Path:
    """Write one snapshot atomically and return its folder; refuses to replace an existing one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = Path(root or ROOT) / provider
    target = base / stamp(moment)
    if target.exists():
        raise InputError.single(target, "a snapshot with this retrieval time exists; snapshots are never overwritten")
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=base))
    try:
        frames = [a.rows for a in answers]
        values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(ROW_COLUMNS))
        values = values.loc[:, list(ROW_COLUMNS)].sort_values(
            ["entry_id", "region_code", "period", "code"], kind="mergesort").reset_index(drop=True)
        pq.write_table(pa.Table.from_pandas(values, preserve_index=False), tmp / VALUES)
        (tmp / "responses").mkdir()
        requests_meta = []
        for n, answer in enumerate(answers, start=1):
            name = f"responses/{n:03d}_{answer.query.table_id}.json"
            (tmp / name).write_text(answer.body, encoding="utf-8", newline="")
            requests_meta.append({
                "table_id": answer.query.table_id, "url": answer.query.url, "query": answer.query.text,
                "entries": [e for e, _ in answer.query.entries], "retrieved_at": answer.retrieved_at,
                "from_cache": answer.from_cache, "rows": len(answer.rows), "response": name,
                "sha256": hashlib.sha256(answer.body.encode("utf-8")).hexdigest()})
        manifest = {"provider": provider, "snapshot": target.name, **meta, "requests": requests_meta}
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
        os.chmod(tmp, 0o755)
        os.rename(tmp, target)  # atomic on one file system; fails if target appeared meanwhile
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def folders(root: Path | None = None) -> list[Path]:
    """Every complete snapshot folder, oldest first within each provider (hidden partial folders are ignored)."""
    base = Path(root or ROOT)
    if not base.is_dir():
        return []
    return sorted(p for provider in sorted(base.iterdir()) if provider.is_dir() and not provider.name.startswith(".")
                  for p in provider.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / VALUES).exists())


def read(root: Path | None = None) -> pd.DataFrame:
    """The values of every snapshot, with the snapshot folder name in ``snapshot``."""
    frames = []
    for folder in folders(root):
        frame = pd.read_parquet(folder / VALUES)
        frames.append(frame.assign(snapshot=folder.name))
    if not frames:
        return pd.DataFrame(columns=[*ROW_COLUMNS, "snapshot"])
    return pd.concat(frames, ignore_index=True)


def files(root: Path | None = None) -> list[Path]:
    """The value files of every snapshot (inputs of the build, hashed into a profile's provenance)."""
    return [folder / VALUES for folder in folders(root)]
