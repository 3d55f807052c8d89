"""Run parameters: defaults, per-municipality overrides and command-line ``--set`` values, validated by a schema.

Every parameter file is checked before any notebook starts; an unknown key, a wrong type or an
unknown municipality stops with a message naming the file and the key.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from analysis import paths
from analysis.errors import InputError, Problem
from analysis.observations import normalise_name

_NUMBER = {"type": "number", "minimum": 0}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "municipality": {"type": "string", "minLength": 1},
        "target_set": {"type": "string", "minLength": 1},
        "include_simulated": {"type": "boolean"},
        "seed": {"type": "integer", "minimum": 0},
        "years": {"type": "array", "items": {"type": "integer", "minimum": 1900, "maximum": 2100},
                  "minItems": 1, "uniqueItems": True},
        "deadline": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "weights": {"type": "object", "additionalProperties": False,
                    "properties": {"economy": _NUMBER, "environment": _NUMBER, "society_and_culture": _NUMBER}},
        "peer_group": {"type": "object", "additionalProperties": False,
                       "properties": {"by": {"enum": ["all", "county", "list"]},
                                      "members": {"type": "array", "items": {"type": "string"}}}},
        "invest": {"type": "object", "additionalProperties": False, "properties": {
            "criteria_weights": {"type": "object", "additionalProperties": False, "properties": {
                "need": _NUMBER, "sdg_breadth": _NUMBER, "feasibility": _NUMBER, "confidence": _NUMBER}},
            "theme_priorities": {"type": "object", "additionalProperties": _NUMBER},
            "draws": {"type": "integer", "minimum": 10}}},
        "synthesis": {"type": "object", "additionalProperties": False, "properties": {
            "draws": {"type": "integer", "minimum": 10},
            "grouping": {"type": "string"}}},
    },
}
DIMENSION_KEYS = {"economy": "Economy", "environment": "Environment", "society_and_culture": "Society and Culture"}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError.single(path, "not valid UTF-8; save the file as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise InputError.single(path, f"not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError.single(path, "expected a mapping of keys to values at the top level")
    return data


def check(values: dict[str, Any], file: str | Path) -> None:
    """Raise InputError naming the file and key for every schema violation in ``values``."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems = []
    for error in sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.absolute_path))):
        key = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            extra = sorted(set(error.instance) - set(allowed))
            for name in extra:
                full = f"{key}.{name}" if key else name
                problems.append(Problem(str(file), None, full, f"unknown key; expected one of {allowed}", "key"))
            continue
        problems.append(Problem(str(file), None, key or None, error.message, "key"))
    if problems:
        raise InputError(problems)


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else in ``override`` replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_set(assignments: list[str]) -> dict[str, Any]:
    """``['weights.environment=2', 'target_set=national']`` as a nested mapping (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in assignments:
        if "=" not in item:
            raise InputError.single("--set", f"'{item}' is not key=value")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else ""
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError.single("--set", f"'{item}': '{part}' is already set to a value, not a mapping",
                                        column=key.strip(), label="key")
        node[parts[-1]] = value
    return out


def municipality_file(municipality: str, params_dir: Path | None = None) -> Path:
    """The override file of a municipality (it need not exist)."""
    folder = Path(params_dir or paths.PARAMS) / "municipalities"
    wanted = normalise_name(municipality)
    for path in sorted(folder.glob("*.yaml")):
        if normalise_name(path.stem).casefold() == wanted.casefold():
            return path
    return folder / f"{wanted}.yaml"


def load(municipality: str | None = None, overrides: list[str] | None = None,
         params_dir: Path | None = None, known_municipalities: list[str] | None = None,
         known_target_sets: list[str] | None = None, known_themes: list[str] | None = None,
         known_groupings: list[str] | None = None) -> dict[str, Any]:
    """Defaults, then the municipality's file, then ``--set`` overrides, each validated; returns the merged values."""
    params_dir = Path(params_dir or paths.PARAMS)
    defaults_path = params_dir / "defaults.yaml"
    values = _read_yaml(defaults_path)
    check(values, defaults_path)
    if municipality is not None:
        path = municipality_file(municipality, params_dir)
        if path.exists():
            own = _read_yaml(path)
            check(own, path)
            _check_references(own, known_municipalities, known_target_sets, path)
            values = merge(values, own)
        values["municipality"] = normalise_name(municipality)
    if overrides:
        extra = parse_set(overrides)
        if "municipality" in extra and municipality is not None:
            raise InputError.single("--set", "the municipality is chosen by the command, not by --set",
                                    column="municipality", label="key")
        check(extra, "--set")
        _check_references(extra, known_municipalities, known_target_sets, "--set")
        values = merge(values, extra)
    check(values, "merged parameters")
    if values.get("weights") and sum(values["weights"].values()) <= 0:
        raise InputError.single("merged parameters", "the dimension weights sum to 0; at least one must be positive",
                                column="weights", label="key")
    _check_references(values, known_municipalities, known_target_sets)
    _check_choices(values, known_themes, known_groupings)
    return values


def _check_choices(values: dict[str, Any], themes: list[str] | None, groupings: list[str] | None) -> None:
    """Theme ids in ``invest.theme_priorities`` and the ``synthesis.grouping`` column must exist."""
    if themes is not None:
        unknown = sorted(set(values.get("invest", {}).get("theme_priorities", {})) - set(themes))
        if unknown:
            raise InputError.single("merged parameters", f"unknown theme ids {unknown}; expected ids from "
                                                         f"investment_themes.csv: {sorted(themes)}",
                                    column="invest.theme_priorities", label="key")
    grouping = values.get("synthesis", {}).get("grouping")
    if groupings is not None and grouping is not None and grouping not in groupings:
        raise InputError.single("merged parameters", f"unknown grouping column '{grouping}'; expected one of "
                                                     f"{sorted(groupings)}", column="synthesis.grouping", label="key")


def _check_references(values: dict[str, Any], municipalities: list[str] | None, target_sets: list[str] | None,
                      file: str | Path = "parameters") -> None:
    """Names that must exist in the data: the municipality, peer-list members and the target set."""
    from analysis.municipalities import resolve

    if municipalities is not None:
        if "municipality" in values:
            values["municipality"] = resolve(values["municipality"], municipalities, str(file), "municipality", "key")
        members = values.get("peer_group", {}).get("members")
        if members is not None:
            values["peer_group"]["members"] = [
                resolve(m, municipalities, str(file), "peer_group.members", "key") for m in members]
    check_set = file == "parameters" or "target_set" in values
    if check_set and target_sets is not None and values.get("target_set") not in target_sets:
        raise InputError.single(str(file), f"unknown target set '{values.get('target_set')}'; "
                                              f"expected one of {sorted(target_sets)}", column="target_set", label="key")


def check_all(params_dir: Path | None = None, known_municipalities: list[str] | None = None,
              known_target_sets: list[str] | None = None, **known: list[str] | None) -> list[Path]:
    """Validate defaults and every municipality file (names included); return the files checked."""
    params_dir = Path(params_dir or paths.PARAMS)
    checked = [params_dir / "defaults.yaml"]
    load(params_dir=params_dir, known_target_sets=known_target_sets, **known)
    for path in sorted((params_dir / "municipalities").glob("*.yaml")):
        if known_municipalities is not None:
            from analysis.municipalities import resolve
            resolve(path.stem, known_municipalities, str(path), "file name", "key")
        load(path.stem, params_dir=params_dir, known_municipalities=known_municipalities,
             known_target_sets=known_target_sets, **known)
        checked.append(path)
    return checked


def dimension_weights(values: dict[str, Any]) -> dict[str, float]:
    """The dimension weights keyed by the registry's dimension names."""
    return {DIMENSION_KEYS[k]: float(v) for k, v in values.get("weights", {}).items()}


def known_names() -> dict[str, list[str]]:
    """The names parameters may refer to (municipalities, target sets, theme ids, grouping columns), for ``load``."""
    from analysis import invest, municipalities, targets

    panel = municipalities.load()
    return {"known_municipalities": list(panel["municipality"]),
            "known_target_sets": targets.target_sets(targets.load()),
            "known_themes": sorted(invest.load_themes()["theme_id"].unique()),
            "known_groupings": [c for c in municipalities.GROUPINGS if c in panel.columns]}
