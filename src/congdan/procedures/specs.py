"""Procedure specs: one YAML file per procedure in ``procedures/``, bundles in
``procedures/bundles/``.

A spec is data: the form (fields, types, validation, prefill source), the documents asked
for and when the state already holds them, the fee, the legal deadline, the processing
steps and the role that acts at each, the effect approval has and the result document.
Adding a procedure needs no code as long as it uses the field types, prefill sources,
"state holds" conditions, step kinds and effects named here (``docs/procedures.md``).

``load_catalogue`` parses and checks every file; an error names the file, the line and
the reason (``congdan procedures_check`` prints them; CI runs it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from django.conf import settings
from django.utils.translation import get_language
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from congdan.payments.fees import FeeSpec
from congdan.wallet.doctypes import INTEGRATED

CODE = r"^[a-z][a-z0-9_]{1,59}$"

# --- vocabularies (the code behind each lives in fields.py, prefill.py, effects.py) ----

FIELD_TYPES = (
    "text",
    "textarea",
    "date",
    "integer",
    "boolean",
    "choice",
    "sex",
    "ethnicity",
    "relationship",
    "id_number",
    "phone",
    "commune",
    "household_code",
    "linked_person",
)
PREFILL_SOURCES = (
    "applicant.full_name",
    "applicant.id_number",
    "applicant.birth_date",
    "applicant.sex",
    "applicant.ethnicity",
    "applicant.phone",
    "applicant.email",
    "applicant.permanent_address",
    "applicant.residence_commune",
    "applicant.household_code",
    "applicant.marital_status",
    "applicant.spouse_full_name",
    "applicant.spouse_id_number",
    "applicant.child_relationship_to_head",
    "applicant.card_number",
    "applicant.card_issue_date",
    "subject.full_name",
    "subject.id_number",
    "subject.birth_date",
    "subject.sex",
    "subject.permanent_address",
    "subject.death_date",
)
# Conditions under which a required document is not asked for: the state holds it.
STATE_HOLDS = (
    "applicant_has_valid_card",
    "applicant_has_permanent_residence",
    "parents_married_in_registry",
    "subject_in_registry",
    "subject_death_recorded",
    "earlier_part_of_bundle",
)
STEP_KINDS = ("receive", "review", "decide")
STEP_ROLES = ("counter", "specialist", "leader")
AGENCY_KINDS = ("police", "justice", "social_insurance", "transport", "peoples_committee")
EFFECTS = (
    "document",
    "registry.register_birth",
    "registry.register_permanent_residence",
    "registry.register_temporary_residence",
    "registry.declare_temporary_absence",
    "registry.record_death",
    "registry.remove_permanent_residence",
    "insurance.child_health_card",
)
SUBJECT_KINDS = ("applicant", "new_person", "linked", "id_number_field")
RELATIONS = ("child", "relative")


class SpecError(ValueError):
    """A problem a model-level check found, with where it is inside the spec (so the
    loader reports the offending key's line, not the line of the whole mapping)."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __str__(self) -> str:
        return self.en if (get_language() or "vi").startswith("en") else self.vi


class Option(_Strict):
    value: str = Field(min_length=1, max_length=40)
    label: Text


class FieldSpec(_Strict):
    name: Annotated[str, Field(pattern=CODE)]
    type: Literal[FIELD_TYPES]  # type: ignore[valid-type]  # a tuple of literals, checked by pydantic
    label: Text
    help: Text | None = None
    required: bool = True
    prefill: Literal[PREFILL_SOURCES] | None = None  # type: ignore[valid-type]  # as above
    # Prefilled values are read-only unless the spec lets the citizen change them.
    editable: bool = False
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1, le=2000)
    pattern: str | None = None
    pattern_message: Text | None = None
    min: int | None = None
    max: int | None = None
    not_future: bool = False
    not_past: bool = False
    max_days_ago: int | None = Field(default=None, ge=0)
    options: list[Option] = []
    # linked_person: which of the applicant's relations may be chosen.
    relation: Literal[RELATIONS] | None = None  # type: ignore[valid-type]  # as above
    vital_status: Literal["alive", "deceased"] | None = None
    max_age_years: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if self.type == "choice" and not self.options:
            raise ValueError("a choice field needs options")
        if self.type != "choice" and self.options:
            raise ValueError("only a choice field has options")
        if self.type == "linked_person" and self.relation is None:
            raise ValueError("a linked_person field needs relation: child or relative")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a regular expression: {exc}") from exc
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class DocumentSpec(_Strict):
    code: Annotated[str, Field(pattern=CODE)]
    name: Text
    required: bool = True
    # Not asked for when the state already holds it (once-only).
    skip_if: Literal[STATE_HOLDS] | None = None  # type: ignore[valid-type]  # as above
    max_mb: int = Field(default=5, ge=1, le=20)
    # Wallet document types that satisfy the requirement instead of an upload: a valid
    # issued document, or an uploaded scan an officer verified (docs/procedures.md).
    wallet_types: list[Annotated[str, Field(pattern=CODE)]] = []

    @model_validator(mode="after")
    def _check_wallet_types(self) -> DocumentSpec:
        for index, code in enumerate(self.wallet_types):
            if code in self.wallet_types[:index]:
                raise SpecError(f"wallet_types repeat: {code}", ("wallet_types", index))
        return self


class StepSpec(_Strict):
    code: Annotated[str, Field(pattern=CODE)]
    kind: Literal[STEP_KINDS]  # type: ignore[valid-type]  # as above
    role: Literal[STEP_ROLES]  # type: ignore[valid-type]  # as above
    name: Text


class AgencySpec(_Strict):
    kind: Literal[AGENCY_KINDS]  # type: ignore[valid-type]  # as above
    level: Literal["commune", "province"]


class SubjectSpec(_Strict):
    kind: Literal[SUBJECT_KINDS] = "applicant"  # type: ignore[valid-type]  # as above
    # linked / id_number_field: the form field that names the subject.
    field: str | None = None
    # id_number_field: a field whose value must match the subject's registered name.
    name_field: str | None = None


class ResultSpec(_Strict):
    doc_type: Annotated[str, Field(pattern=CODE)]
    title: Text
    valid_days: int | None = Field(default=None, ge=1)
    # Form fields copied into the document (besides the subject's identity).
    fields: list[str] = []


class ProcedureSpec(_Strict):
    code: Annotated[str, Field(pattern=CODE)]
    name: Text
    summary: Text
    category: Literal["civil_status", "residence", "insurance", "justice", "transport"]
    agency: AgencySpec
    # Where the dossier is handled: the applicant's residence, the subject's, or a field.
    jurisdiction: str = "applicant"
    legal_basis: str = Field(min_length=3)
    deadline_days: int = Field(ge=0, le=120)
    suspendable: bool = True
    fully_online: bool = True
    min_eid_level: Literal[1, 2] = 2
    subject: SubjectSpec = SubjectSpec()
    fields: list[FieldSpec]
    documents: list[DocumentSpec] = []
    fee: FeeSpec = FeeSpec()
    steps: list[StepSpec]
    effect: Literal[EFFECTS]  # type: ignore[valid-type]  # as above
    result: ResultSpec
    # Values the effect needs that are not form fields (e.g. the allowance amount).
    parameters: dict[str, Any] = {}

    @model_validator(mode="after")
    def _check_form_and_steps(self) -> ProcedureSpec:
        names = [f.name for f in self.fields]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise SpecError(f"field names repeat: {name}", ("fields", index, "name"))
        codes = [s.code for s in self.steps]
        for index, code in enumerate(codes):
            if code in codes[:index]:
                raise SpecError(f"step codes repeat: {code}", ("steps", index, "code"))
        order = "steps start with a 'receive' step and end with a 'decide' step"
        if len(self.steps) < 2:
            raise SpecError(order, ("steps",))
        if self.steps[0].kind != "receive":
            raise SpecError(order, ("steps", 0, "kind"))
        if self.steps[-1].kind != "decide":
            raise SpecError(order, ("steps", len(self.steps) - 1, "kind"))
        for index, step in enumerate(self.steps[1:-1], start=1):
            if step.kind != "review":
                raise SpecError(
                    "steps between the first and the last are 'review' steps",
                    ("steps", index, "kind"),
                )
        unknown = [n for n in self.result.fields if n not in names]
        if unknown:
            raise SpecError(
                f"result.fields names unknown fields: {', '.join(unknown)}", ("result", "fields")
            )
        return self

    @model_validator(mode="after")
    def _check_jurisdiction_and_subject(self) -> ProcedureSpec:
        names = [f.name for f in self.fields]
        if self.jurisdiction not in ("applicant", "subject") and not (
            self.jurisdiction.startswith("field:") and self.jurisdiction[6:] in names
        ):
            raise SpecError(
                "jurisdiction is 'applicant', 'subject' or 'field:<a commune field>'",
                ("jurisdiction",),
            )
        if self.jurisdiction.startswith("field:"):
            target = next(f for f in self.fields if f.name == self.jurisdiction[6:])
            if target.type != "commune":
                raise SpecError("the jurisdiction field must have type commune", ("jurisdiction",))
        if self.jurisdiction == "subject" and self.subject.kind in ("applicant", "new_person"):
            raise SpecError(
                "jurisdiction 'subject' needs a linked or id_number_field subject",
                ("jurisdiction",),
            )
        subject = self.subject
        if subject.kind in ("linked", "id_number_field"):
            if subject.field not in names:
                raise SpecError(
                    f"subject.field must name a form field, got {subject.field!r}",
                    ("subject", "field"),
                )
            ftype = next(f.type for f in self.fields if f.name == subject.field)
            wanted = "linked_person" if subject.kind == "linked" else "id_number"
            if ftype != wanted:
                raise SpecError(f"subject.field must be a {wanted} field", ("subject", "field"))
        if subject.name_field is not None and subject.name_field not in names:
            raise SpecError("subject.name_field must name a form field", ("subject", "name_field"))
        for index, f in enumerate(self.fields):
            if (f.prefill or "").startswith("subject.") and subject.kind in (
                "applicant",
                "new_person",
            ):
                raise SpecError(
                    f"field {f.name} prefills from the subject, which this procedure does not have",
                    ("fields", index, "prefill"),
                )
        return self

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


class BundlePart(_Strict):
    procedure: Annotated[str, Field(pattern=CODE)]
    after: list[str] = []
    # The subject comes from an earlier part's result (the child birth registration created).
    subject_from: str | None = None
    # Fields of the part's own form that the bundle does not ask (taken from subject_from).
    omit_fields: list[str] = []
    # What happens to this part when one it depends on is rejected.
    on_dependency_rejected: Literal["cancel", "continue"] = "cancel"


class BundleSpec(_Strict):
    code: Annotated[str, Field(pattern=CODE)]
    name: Text
    summary: Text
    legal_basis: str = Field(min_length=3)
    # The legal maximum for the whole bundle, and the longer one when checks are needed.
    deadline_days: int = Field(ge=1, le=60)
    deadline_days_with_verification: int | None = Field(default=None, ge=1, le=60)
    min_eid_level: Literal[1, 2] = 2
    parts: list[BundlePart] = Field(min_length=2)

    @model_validator(mode="after")
    def _check(self) -> BundleSpec:
        seen: list[str] = []
        for index, part in enumerate(self.parts):
            if part.procedure in seen:
                raise SpecError(
                    f"part {part.procedure} appears twice", ("parts", index, "procedure")
                )
            deps = [("after", d) for d in part.after]
            if part.subject_from:
                deps.append(("subject_from", part.subject_from))
            for key, dep in deps:
                if dep not in seen:
                    raise SpecError(
                        f"part {part.procedure} depends on {dep}, which is not an earlier part",
                        ("parts", index, key),
                    )
            seen.append(part.procedure)
        return self

    def part(self, code: str) -> BundlePart:
        return next(p for p in self.parts if p.procedure == code)


# --- loading with line numbers ---------------------------------------------------------


@dataclass(frozen=True)
class SpecProblem:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class CatalogueError(Exception):
    def __init__(self, problems: list[SpecProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Every path in a composed YAML document with its (1-based) line."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            yield sub, key.start_mark.line + 1
            yield from ((p, ln) for p, ln in _lines(value, sub) if p != sub)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _lines(item, (*path, index))


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    loc = tuple(loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _lines_of_file(path: Path) -> dict[tuple[Any, ...], int]:
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    return dict(_lines(node)) if node is not None else {}


def _parse(path: Path, model: type[BaseModel]) -> tuple[Any | None, list[SpecProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        return None, [SpecProblem(path, line, f"not valid YAML: {exc.problem}")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SpecProblem(path, 1, f"cannot read: {exc}")]
    if node is None or not isinstance(data, dict):
        return None, [SpecProblem(path, 1, "a spec is a YAML mapping")]
    lines = dict(_lines(node))
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            inner = (err.get("ctx") or {}).get("error")
            loc = tuple(err["loc"]) + tuple(getattr(inner, "loc", ()))
            where = ".".join(str(p) for p in loc) or "(top)"
            message = err["msg"].removeprefix("Value error, ")
            problems.append(SpecProblem(path, _line_of(lines, loc), f"{where}: {message}"))
        return None, problems


@dataclass(frozen=True)
class Catalogue:
    procedures: dict[str, ProcedureSpec]
    bundles: dict[str, BundleSpec]
    files: dict[str, Path]

    def procedure(self, code: str) -> ProcedureSpec | None:
        return self.procedures.get(code)

    def bundle(self, code: str) -> BundleSpec | None:
        return self.bundles.get(code)


def _check_wallet_types(
    procedures: dict[str, ProcedureSpec], files: dict[str, Path]
) -> list[SpecProblem]:
    """A document's ``wallet_types`` name types the wallet holds: the integrated documents
    and the results of the catalogue's procedures (a typo would never match a document)."""
    known = set(INTEGRATED) | {p.result.doc_type for p in procedures.values()}
    problems: list[SpecProblem] = []
    for spec in procedures.values():
        lines: dict[tuple[Any, ...], int] | None = None
        for d_index, doc in enumerate(spec.documents):
            for t_index, code in enumerate(doc.wallet_types):
                if code in known:
                    continue
                if lines is None:
                    lines = _lines_of_file(files[spec.code])
                where = ("documents", d_index, "wallet_types", t_index)
                problems.append(
                    SpecProblem(
                        files[spec.code],
                        _line_of(lines, where),
                        f"documents.{d_index}.wallet_types.{t_index}: unknown wallet document "
                        f"type {code}",
                    )
                )
    return problems


def _cross_check(
    procedures: dict[str, ProcedureSpec],
    bundles: dict[str, BundleSpec],
    files: dict[str, Path],
    broken: Collection[str] = (),
) -> list[SpecProblem]:
    problems = _check_wallet_types(procedures, files)
    for bundle in bundles.values():
        path = files[f"bundle:{bundle.code}"]
        lines = _lines_of_file(path)
        for index, part in enumerate(bundle.parts):
            spec = procedures.get(part.procedure)
            line = _line_of(lines, ("parts", index, "procedure"))
            if spec is None:
                # A spec that failed to load has its own problems; do not repeat them here.
                if part.procedure not in broken:
                    problems.append(SpecProblem(path, line, f"unknown procedure {part.procedure}"))
                continue
            missing = [n for n in part.omit_fields if n not in {f.name for f in spec.fields}]
            if missing:
                problems.append(
                    SpecProblem(path, line, f"omit_fields names unknown fields: {missing}")
                )
        # One form: a field name used by two parts must mean the same thing.
        seen: dict[str, tuple[str, FieldSpec]] = {}
        for index, part in enumerate(bundle.parts):
            spec = procedures.get(part.procedure)
            if spec is None:
                continue
            for f in spec.fields:
                if f.name in part.omit_fields:
                    continue
                other = seen.get(f.name)
                if other is not None and (other[1].type, other[1].prefill) != (f.type, f.prefill):
                    problems.append(
                        SpecProblem(
                            path,
                            _line_of(lines, ("parts", index, "procedure")),
                            f"field {f.name} differs between {other[0]} and {part.procedure}",
                        )
                    )
                seen.setdefault(f.name, (part.procedure, f))
    return problems


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Parse and check every spec under ``directory``; raise ``CatalogueError`` listing
    every problem (file, line, reason)."""
    root = Path(directory or settings.CONGDAN_PROCEDURES_DIR)
    problems: list[SpecProblem] = []
    procedures: dict[str, ProcedureSpec] = {}
    bundles: dict[str, BundleSpec] = {}
    files: dict[str, Path] = {}
    if not root.is_dir():
        raise CatalogueError([SpecProblem(root, 0, "the procedures directory does not exist")])
    broken: set[str] = set()
    for path in sorted(root.glob("*.yaml")):
        spec, found = _parse(path, ProcedureSpec)
        problems += found
        if found:
            broken.add(path.stem)
        if isinstance(spec, ProcedureSpec):
            if spec.code != path.stem:
                line = _line_of(_lines_of_file(path), ("code",))
                problems.append(SpecProblem(path, line, f"code {spec.code} differs from file name"))
            procedures[spec.code] = spec
            files[spec.code] = path
    for path in sorted((root / "bundles").glob("*.yaml")):
        bundle, found = _parse(path, BundleSpec)
        problems += found
        if isinstance(bundle, BundleSpec):
            code_line = _line_of(_lines_of_file(path), ("code",))
            if bundle.code != path.stem:
                problems.append(
                    SpecProblem(path, code_line, f"code {bundle.code} differs from file name")
                )
            if bundle.code in procedures:
                problems.append(
                    SpecProblem(path, code_line, f"code {bundle.code} is also a procedure")
                )
            bundles[bundle.code] = bundle
            files[f"bundle:{bundle.code}"] = path
    problems += _cross_check(procedures, bundles, files, broken)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(procedures=procedures, bundles=bundles, files=files)


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue of the configured directory, loaded once per process."""
    return load_catalogue()
