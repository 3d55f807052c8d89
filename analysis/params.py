"""Run parameters: one typed, validated object from defaults, a municipality's file and ``--set`` values.

Layers, each merged over the one before: ``params/defaults.yaml`` (every key, the only place with
defaults), ``params/municipalities/<number, number-slug or name>.yaml`` (what differs for one
municipality), then ``--set key=value`` (one run). The merged values are validated once into
:class:`Parameters` (pydantic); an error names the file that gave the offending value and the key.
Everything downstream — the CLI, the workflow, the notebooks — receives the validated object or its
canonical serialisation (:meth:`Parameters.canonical`), never the ``--set`` strings, and the run
folder's hash is taken over the resolved values (:func:`digest`).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, StrictBool, ValidationError, ValidationInfo, field_validator)

from analysis import paths
from analysis.errors import InputError, Problem
from analysis.validation import FIRST_YEAR, LAST_YEAR

MAX_WEIGHT = 1e6
MAX_INVEST_DRAWS = 100_000
"""Dirichlet draws × themes × methods of 8-byte ranks: 100 000 draws of 16 themes need about 0.1 GB."""
MAX_SYNTHESIS_DRAWS = 200_000
"""Monte Carlo draws × municipalities of 8-byte ranks, several arrays: 200 000 draws of 357 municipalities need about 2 GB."""

Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]
Priority = Annotated[float, Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False)]
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR, strict=True)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _names(info: ValidationInfo) -> Context | None:
    """The data's names from the validation context (None: names are not checked)."""
    ctx = info.context.get("names") if isinstance(info.context, dict) else None
    return ctx if isinstance(ctx, Context) else None


class Weights(_Section):
    economy: Weight = Field(description="Relative weight of the Economy dimension in the overall index.")
    environment: Weight = Field(description="Relative weight of the Environment dimension in the overall index.")
    society_and_culture: Weight = Field(description="Relative weight of the Society and Culture dimension.")


class PeerGroup(_Section):
    by: Literal["all", "county", "list"] = Field(
        description="Peers for ranks, percentiles and investment feasibility: the whole panel, the same county, or a list.")
    members: list[str] = Field(
        description="The peers when by = list: municipality numbers or names, resolved to numbers.")


class Invest(_Section):
    criteria_weights: dict[str, Weight] = Field(
        description="Weight of each investment criterion (names from analysis.invest.CRITERIA), scaled to sum to 1.")
    theme_priorities: dict[str, Priority] = Field(
        description="Policy multiplier of a theme's score by theme_id of data/raw/investment_themes.csv (1 when absent).")
    draws: int = Field(ge=10, le=MAX_INVEST_DRAWS, strict=True,
                       description="Weight draws for the stability of the investment ranking "
                                   "(at most 100 000: about 0.1 GB).")
    min_evidence: float = Field(ge=0, le=1, allow_inf_nan=False,
                                description="Rank only themes whose need rests at least this share on real values.")
    priorities_source: str = Field(max_length=500, description="The citizens' survey behind theme_priorities "
                                                               "(file and SHA-256), recorded in provenance.")

    @field_validator("criteria_weights")
    @classmethod
    def _known_criteria(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        names = _names(info)
        unknown = sorted(set(value) - set(names.criteria)) if names else []
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; expected {sorted(names.criteria)}")
        if value and sum(value.values()) <= 0:
            raise ValueError("the criteria weights sum to 0; at least one must be positive")
        return value

    @field_validator("theme_priorities")
    @classmethod
    def _known_themes(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        names = _names(info)
        unknown = sorted(set(value) - set(names.themes)) if names else []
        if unknown:
            raise ValueError(f"unknown theme ids {unknown}; expected ids from investment_themes.csv: "
                             f"{sorted(names.themes)}")
        return value


class Synthesis(_Section):
    draws: int = Field(ge=10, le=MAX_SYNTHESIS_DRAWS, strict=True,
                       description="Monte Carlo draws over construction choices for the rank bands "
                                   "(at most 200 000: about 2 GB for all of Norway).")
    grouping: str = Field(description="Panel column defining the groups of the synthesis's group tests "
                                      "(analysis.municipalities.GROUPINGS).")

    @field_validator("grouping")
    @classmethod
    def _known_grouping(cls, value: str, info: ValidationInfo) -> str:
        names = _names(info)
        if names and value not in names.groupings:
            raise ValueError(f"unknown synthesis.grouping '{value}'; expected one of {sorted(names.groupings)}")
        return value


@dataclass(frozen=True)
class Context:
    """Names the parameters may refer to, from the data (validation context)."""

    target_sets: tuple[str, ...]
    themes: tuple[str, ...]
    groupings: tuple[str, ...]
    criteria: tuple[str, ...]


class Parameters(_Section):
    """Every parameter of a profile, the synthesis or the tutorial (descriptions in docs/parameters.md)."""

    panel: Literal["u4ssc17", "norway"] = Field(
        description="Municipalities assessed together: the 17 of the UNECE project, or every municipality of Norway.")
    municipality: str | None = Field(
        default=None, description="kommunenummer of the profile's municipality; set by the command, never in a file.")
    target_set: str = Field(description="Target set of data/raw/targets.csv (default, national, or a city's own set).")
    include_simulated: StrictBool = Field(
        description="Fill cells no source covers with labelled simulated values (true) or use real values only (false).")
    seed: int = Field(ge=0, le=2**32 - 1, strict=True, description="Seed of every random procedure.")
    years: list[Year] = Field(min_length=1, max_length=50,
                              description="Years simulated where no real value exists (unique whole years).")
    deadline: Year = Field(description="Deadline of the trend arrows and projections (SDG horizon).")
    weights: Weights = Field(description="Dimension weights of the overall index.")
    peer_group: PeerGroup = Field(description="Peer group of the profile.")
    invest: Invest = Field(description="Investment and innovation opportunity ranking.")
    synthesis: Synthesis = Field(description="Cross-city synthesis.")

    @field_validator("target_set")
    @classmethod
    def _known_target_set(cls, value: str, info: ValidationInfo) -> str:
        names = _names(info)
        if names and value not in names.target_sets:
            raise ValueError(f"unknown target set '{value}'; expected one of {sorted(names.target_sets)}")
        return value

    @field_validator("years")
    @classmethod
    def _unique_years(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("years must be unique")
        return value

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, value: Weights) -> Weights:
        if sum(value.model_dump().values()) <= 0:
            raise ValueError("the dimension weights sum to 0; at least one must be positive")
        return value

    def canonical(self) -> dict[str, Any]:
        """The resolved values as plain JSON types with sorted keys: what notebooks receive and runs are hashed over."""
        return json.loads(json.dumps(self.model_dump(mode="json"), sort_keys=True))


_CONTEXTS: dict[str, Context] = {}


def context() -> Context:
    """The names in the data that parameters may refer to (target sets, theme ids, grouping columns, criteria).

    Kept by the SHA-256 of the files it is read from (catalogue, targets, themes): a build validates the
    parameters of every profile twice (the workflow, then the notebook), and reading and validating the
    targets and themes each time cost more than the rest of the validation.
    """
    from analysis import invest, municipalities, targets

    try:
        key = hashlib.sha256(b"\0".join(p.read_bytes() for p in (paths.CATALOGUE, paths.TARGETS,
                                                                  paths.THEMES))).hexdigest()
    except OSError:  # a missing file: reading it below names it
        key = None
    if key in _CONTEXTS:
        return _CONTEXTS[key]
    found = Context(target_sets=tuple(targets.target_sets(targets.load())),
                    themes=tuple(sorted(invest.load_themes()["theme_id"].unique())),
                    groupings=tuple(municipalities.GROUPINGS), criteria=tuple(invest.CRITERIA))
    _CONTEXTS.clear()
    _CONTEXTS[key] = found
    return found


# --- reading and merging the layers ------------------------------------------------------------

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


def merge(base: dict[str, Any], override: Mapping[str, Any], origins: dict[tuple, str] | None = None,
          source: str = "", prefix: tuple = ()) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else in ``override`` replaces; ``origins`` records who set what."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        where = (*prefix, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, origins, source, where)
        else:
            out[key] = copy.deepcopy(value)
            if origins is not None:
                for k in [k for k in origins if k[:len(where)] == where]:
                    del origins[k]
                origins[where] = source
    return out


def parse_set(assignments: list[str]) -> dict[str, Any]:
    """``['weights.environment=2', 'target_set=national']`` as a nested mapping (values read as YAML scalars).

    The one place where ``--set`` strings are parsed; the CLI calls it once.
    """
    out: dict[str, Any] = {}
    for item in assignments:
        if "=" not in item:
            raise InputError.single("--set", f"'{item}' is not key=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise InputError.single("--set", f"'{item}': the value is not valid YAML ({exc})",
                                    column=key.strip(), label="key") from exc
        node = out
        parts = key.strip().split(".")
        if not all(parts):
            raise InputError.single("--set", f"'{item}': empty key part", column=key.strip(), label="key")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError.single("--set", f"'{item}': '{part}' is already set to a value, not a mapping",
                                        column=key.strip(), label="key")
        node[parts[-1]] = value
    return out


def municipality_files(params_dir: Path | None = None) -> dict[str, Path]:
    """kommunenummer → override file; a file whose name is no municipality, or two files for one, is an error."""
    from analysis.cities import key_of
    from analysis.municipalities import registry

    folder = Path(params_dir or paths.PARAMS) / "municipalities"
    found: dict[str, Path] = {}
    problems = []
    for path in sorted(folder.glob("*.yaml")):
        stem = path.stem
        text = key_of(stem)
        try:
            number = registry().resolve(text, file=str(path), column="file name", label="key").kommunenummer
        except InputError as exc:
            problems += exc.problems
            continue
        if number in found:
            problems.append(Problem(str(path), None, "file name",
                                    f"a second file for {number}; {found[number].name} already sets its parameters", "key"))
            continue
        found[number] = path
    if problems:
        raise InputError(problems)
    return found


def resolve(municipality: str | None = None, overrides: Mapping[str, Any] | list[str] | None = None,
            params_dir: Path | None = None, names: Context | None | bool = None) -> Parameters:
    """Defaults, then the municipality's file, then the overrides, validated once into Parameters.

    ``municipality`` is a number or a name (resolved through the registry to its kommunenummer);
    ``overrides`` a nested mapping, or ``key=value`` strings (parsed here by :func:`parse_set`);
    ``names`` (default: :func:`context`) are the data's names the values are checked against (``False``:
    not checked, for the workflow's cheap parse; the commands check them before it runs).
    """
    from analysis.municipalities import registry

    if names is None:
        names = context()
    if isinstance(overrides, (list, tuple)):
        overrides = parse_set(list(overrides))

    params_dir = Path(params_dir or paths.PARAMS)
    defaults_path = params_dir / "defaults.yaml"
    origins: dict[tuple, str] = {}
    values = merge({}, _read_yaml(defaults_path), origins, str(defaults_path))
    if "municipality" in values:
        raise InputError.single(defaults_path, "the municipality is chosen by the command, not in a file",
                                column="municipality", label="key")
    if municipality is not None:
        number = registry().resolve(municipality, file="command line", column="municipality",
                                    label="argument").kommunenummer
        own = municipality_files(params_dir).get(number)
        if own is not None:
            layer = _read_yaml(own)
            if "municipality" in layer:
                raise InputError.single(own, "the municipality is chosen by the command, not in a file",
                                        column="municipality", label="key")
            values = merge(values, layer, origins, str(own))
        values["municipality"] = number
        origins[("municipality",)] = "command line"
    if overrides:
        if "municipality" in overrides and municipality is not None:
            raise InputError.single("--set", "the municipality is chosen by the command, not by --set",
                                    column="municipality", label="key")
        values = merge(values, overrides, origins, "--set")
    values = _resolve_members(values, origins)
    try:
        return Parameters.model_validate(values, context={"names": names or None})
    except ValidationError as exc:
        raise InputError([_problem(e, origins) for e in exc.errors()]) from None


def _resolve_members(values: dict[str, Any], origins: dict[tuple, str]) -> dict[str, Any]:
    """Peer-list members and the municipality as kommunenummer (names are resolved through the registry)."""
    from analysis.municipalities import registry

    members = values.get("peer_group", {}).get("members") if isinstance(values.get("peer_group"), dict) else None
    if isinstance(members, list):
        source = origins.get(("peer_group", "members"), "parameters")
        values["peer_group"]["members"] = [
            registry().resolve(str(m), file=source, column="peer_group.members", label="key").kommunenummer
            for m in members]
    return values


def _problem(error: dict[str, Any], origins: dict[tuple, str]) -> Problem:
    loc = tuple(error.get("loc", ()))
    source = "merged parameters"
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            source = origins[loc[:n]]
            break
    # a mapping set by one layer and partly overridden by a later one: name the latest layer inside it
    layers = list(dict.fromkeys(origins.values()))
    inside = [src for key, src in origins.items() if loc and key[:len(loc)] == loc]
    if inside:
        source = max(inside, key=layers.index)
    key = ".".join(str(p) for p in loc) or None
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key; see docs/parameters.md for the keys"
    elif error["type"] == "missing":
        message = "missing; every key needs a value in params/defaults.yaml"
    elif "input" in error and not isinstance(error["input"], dict):
        message = f"{message} (got {error['input']!r})"
    return Problem(source, None, key, message, "key")


def load(municipality: str | None = None, overrides: Mapping[str, Any] | list[str] | None = None,
         params_dir: Path | None = None, names: Context | None | bool = None) -> dict[str, Any]:
    """:func:`resolve` as its canonical dict (what analysis functions take)."""
    return resolve(municipality, overrides, params_dir, names).canonical()


def given(values: Mapping[str, Any] | None, municipality: str | None = None) -> dict[str, Any]:
    """The values a notebook was given (validated again, never re-parsed), or those of ``municipality`` when run by hand."""
    if values is None:
        return load(municipality)
    try:
        return Parameters.model_validate(dict(values), context={"names": context()}).canonical()
    except ValidationError as exc:
        raise InputError([_problem(e, {}) for e in exc.errors()]) from None


def check_all(params_dir: Path | None = None, names: Context | None = None) -> list[Path]:
    """Validate the defaults and every municipality file (names included); return the files checked."""
    params_dir = Path(params_dir or paths.PARAMS)
    names = names if names is not None else context()
    resolve(params_dir=params_dir, names=names)
    files = municipality_files(params_dir)
    for number in sorted(files):
        resolve(number, params_dir=params_dir, names=names)
    return [params_dir / "defaults.yaml", *(files[n] for n in sorted(files))]


ASSESSMENT_KEYS = ("panel", "target_set", "include_simulated", "seed", "years", "deadline", "weights")
"""The parameters a panel assessment depends on; profiles that agree on them share one assessment stage."""


def assessment_key(values: Mapping[str, Any]) -> str:
    """The assessment stage key of resolved values: a hash of the values in :data:`ASSESSMENT_KEYS`."""
    return digest({k: values[k] for k in ASSESSMENT_KEYS}, ())


def overrides(values: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> list[str]:
    """Every value that differs from ``base`` (default: the main job's values for the same municipality), as
    ``dotted.key=value`` with JSON values: what a re-run changed, for its "Run" line and provenance."""
    base = load(values.get("municipality")) if base is None else base

    def leaves(node: Any, prefix: str = "") -> dict[str, Any]:
        if isinstance(node, Mapping) and node:
            return {k: v for key, sub in node.items() for k, v in leaves(sub, f"{prefix}{key}.").items()}
        return {prefix.rstrip("."): node}

    now, then = leaves(values), leaves(base)
    return [f"{k}={json.dumps(now.get(k), ensure_ascii=False)}" for k in sorted(set(now) | set(then))
            if now.get(k) != then.get(k)]


def digest(values: Mapping[str, Any], exclude: tuple[str, ...] = ("municipality",)) -> str:
    """Short SHA-256 of resolved values (canonical JSON) without ``exclude``: names a run folder or a cached stage."""
    relevant = {k: v for k, v in values.items() if k not in exclude}
    text = json.dumps(relevant, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


DIMENSION_KEYS = {"economy": "Economy", "environment": "Environment", "society_and_culture": "Society and Culture"}


def dimension_weights(values: Mapping[str, Any]) -> dict[str, float]:
    """The dimension weights keyed by the registry's dimension names."""
    return {DIMENSION_KEYS[k]: float(v) for k, v in values.get("weights", {}).items()}


def field_descriptions(model: type[BaseModel] = Parameters, prefix: str = "") -> dict[str, str]:
    """Every key (dotted) with its description: the self-documenting schema behind docs/parameters.md."""
    out = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        out[key] = info.description or ""
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.update(field_descriptions(annotation, key + "."))
    return out


def keys_table() -> str:
    """The Markdown table of every key, its default (params/defaults.yaml) and description, for docs/parameters.md."""
    defaults = load()
    sections = {name for name, info in Parameters.model_fields.items()
                if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)}
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for key, text in field_descriptions().items():
        if key in sections:
            continue  # a section: its keys follow
        node: Any = defaults
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        shown = "—" if node is None else json.dumps(node, ensure_ascii=False)
        rows.append(f"| `{key}` | `{shown}` | {text} |")
    return "\n".join(rows)
