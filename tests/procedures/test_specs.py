"""The procedure catalogue: the shipped specs load, broken specs are reported with the
file, the line of the offending key and the reason, and ``procedures_check`` exits 0 or 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from congdan.procedures.specs import CatalogueError, SpecProblem, load_catalogue

SHIPPED = Path(__file__).resolve().parents[2] / "procedures"

PROCEDURES = {
    "birth_registration",
    "permanent_residence_registration",
    "temporary_residence_registration",
    "temporary_absence_declaration",
    "accommodation_notification",
    "child_health_insurance",
    "death_registration",
    "permanent_residence_removal",
    "funeral_allowance",
    "marital_status_certificate",
    "judicial_record_certificate",
    "driving_licence_renewal",
}
BUNDLES = {"birth_bundle", "death_bundle"}

# The form fields each effect reads (congdan.procedures.effects): renaming one in a spec
# would break approval, so the catalogue pins them.
EFFECT_FIELDS = {
    "birth_registration": {
        "child_full_name",
        "child_birth_date",
        "child_sex",
        "child_ethnicity",
        "child_birth_place",
        "birth_commune",
        "applicant_role",
        "other_parent_id_number",
        "other_parent_full_name",
    },
    "permanent_residence_registration": {"household_code", "relationship"},
    "temporary_residence_registration": {"stay_commune", "stay_street", "start_date", "end_date"},
    "temporary_absence_declaration": {"destination", "start_date", "end_date", "reason"},
    "child_health_insurance": {"child_id_number", "initial_clinic"},
    "death_registration": {"deceased_id_number", "death_date", "death_place"},
    "permanent_residence_removal": {"person_id_number", "reason"},
    "funeral_allowance": {"deceased_id_number", "social_insurance_number"},
}

# code: (agency kind, level, legal deadline in working days, base fee in đồng)
TABLE = {
    "birth_registration": ("justice", "commune", 1, 0),
    "permanent_residence_registration": ("police", "commune", 7, 20_000),
    "temporary_residence_registration": ("police", "commune", 3, 15_000),
    "temporary_absence_declaration": ("police", "commune", 1, 0),
    "accommodation_notification": ("police", "commune", 1, 0),
    "child_health_insurance": ("social_insurance", "province", 5, 0),
    "death_registration": ("justice", "commune", 1, 0),
    "permanent_residence_removal": ("police", "commune", 3, 0),
    "funeral_allowance": ("social_insurance", "province", 5, 0),
    "marital_status_certificate": ("justice", "commune", 3, 15_000),
    "judicial_record_certificate": ("justice", "province", 10, 200_000),
    "driving_licence_renewal": ("police", "province", 5, 135_000),
}


# --- the shipped catalogue ---------------------------------------------------------------


def test_shipped_catalogue_loads() -> None:
    catalogue = load_catalogue(SHIPPED)
    assert set(catalogue.procedures) == PROCEDURES
    assert set(catalogue.bundles) == BUNDLES
    for code in PROCEDURES:
        assert catalogue.procedure(code) is not None
        assert catalogue.files[code] == SHIPPED / f"{code}.yaml"
    for code in BUNDLES:
        assert catalogue.bundle(code) is not None


def test_catalogue_table() -> None:
    catalogue = load_catalogue(SHIPPED)
    table = {
        code: (s.agency.kind, s.agency.level, s.deadline_days, s.fee.amount)
        for code, s in catalogue.procedures.items()
    }
    assert table == TABLE


@pytest.mark.parametrize("code", sorted(EFFECT_FIELDS))
def test_effects_find_their_fields(code: str) -> None:
    spec = load_catalogue(SHIPPED).procedures[code]
    assert EFFECT_FIELDS[code] <= {f.name for f in spec.fields}


def test_every_procedure_is_fully_online_and_bilingual() -> None:
    for spec in load_catalogue(SHIPPED).procedures.values():
        assert spec.fully_online
        assert spec.name.vi != spec.name.en
        assert spec.summary.vi and spec.summary.en
        assert spec.steps[0].role == "counter"
        assert spec.steps[-1].role == "leader"


def test_bundles_follow_decree_63() -> None:
    catalogue = load_catalogue(SHIPPED)
    birth, death = catalogue.bundles["birth_bundle"], catalogue.bundles["death_bundle"]
    assert (birth.deadline_days, birth.deadline_days_with_verification) == (3, 5)
    assert (death.deadline_days, death.deadline_days_with_verification) == (3, 5)
    assert "63/2024/NĐ-CP" in birth.legal_basis
    assert [p.procedure for p in birth.parts] == [
        "birth_registration",
        "permanent_residence_registration",
        "child_health_insurance",
    ]
    assert birth.part("child_health_insurance").omit_fields == ["child_id_number"]
    assert death.part("funeral_allowance").subject_from == "death_registration"
    assert death.part("permanent_residence_removal").omit_fields == [
        "person_id_number",
        "person_full_name",
    ]


def test_funeral_allowance_parameters() -> None:
    spec = load_catalogue(SHIPPED).procedures["funeral_allowance"]
    assert spec.parameters["amount"] == 10 * 2_340_000
    assert "73/2024/NĐ-CP" in spec.parameters["basis"]


# --- broken specs: file, line, reason ----------------------------------------------------


def edit(path: Path, old: str, new: str, *, last: bool = False) -> int:
    """Replace the whole line(s) ``old`` (ending in a newline) once in ``path``; return
    the 1-based line where ``old`` began (``new`` begins there too)."""
    assert old.endswith("\n")
    text = path.read_text(encoding="utf-8")
    padded = "\n" + text
    needle = "\n" + old
    index = padded.rindex(needle) if last else padded.index(needle)
    line = padded[: index + 1].count("\n")
    path.write_text(text[:index] + new + text[index + len(old) :], encoding="utf-8")
    return line


def line_of(path: Path, whole_line: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines.index(whole_line) + 1


def copy_spec(tmp_path: Path, code: str, *, as_name: str | None = None) -> Path:
    directory = tmp_path / "procedures"
    directory.mkdir(exist_ok=True)
    target = directory / f"{as_name or code}.yaml"
    shutil.copy(SHIPPED / f"{code}.yaml", target)
    return target


def copy_catalogue(tmp_path: Path) -> Path:
    directory = tmp_path / "procedures"
    shutil.copytree(SHIPPED, directory)
    return directory


def problems_of(directory: Path) -> list[SpecProblem]:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(directory)
    return caught.value.problems


# Each case breaks one copied spec and returns (file, expected line, reason substring).
Breaker = Callable[[Path], tuple[Path, int, str]]


def unknown_field_type(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "birth_registration")
    line = edit(path, "    type: sex\n", "    type: gender\n")
    return path, line, "fields.2.type: Input should be"


def missing_english_name(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "birth_registration")
    edit(path, "  en: Birth registration\n", "")
    return path, line_of(path, "name:"), "name.en: Field required"


def bad_yaml(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "birth_registration")
    line = edit(path, "deadline_days: 1\n", "deadline_days: 1: 2\n")
    return path, line, "not valid YAML: mapping values are not allowed here"


def duplicate_field(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "birth_registration")
    duplicate = "  - name: child_sex\n    type: sex\n    label: {vi: Giới tính, en: Sex}\n"
    line = edit(path, "documents:\n", duplicate + "documents:\n")
    return path, line, "field names repeat: child_sex"


def steps_not_ending_in_decide(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "birth_registration")
    line = edit(path, "    kind: decide\n", "    kind: review\n", last=True)
    return path, line, "end with a 'decide' step"


def code_differs_from_file_name(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "death_registration", as_name="khai_tu")
    # A spec may open with a comment: the problem is on the ``code`` key, not line 1.
    path.write_text("# Đăng ký khai tử\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path, line_of(path, "code: death_registration"), "differs from file name"


def negative_fee(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "permanent_residence_registration")
    line = edit(path, "  amount: 20000\n", "  amount: -20000\n")
    return path, line, "fee.amount: Input should be greater than or equal to 0"


def unknown_prefill_source(tmp_path: Path) -> tuple[Path, int, str]:
    path = copy_spec(tmp_path, "marital_status_certificate")
    line = edit(
        path, "    prefill: applicant.marital_status\n", "    prefill: applicant.nickname\n"
    )
    return path, line, "fields.3.prefill: Input should be"


def part_depends_on_later_part(tmp_path: Path) -> tuple[Path, int, str]:
    directory = copy_catalogue(tmp_path)
    path = directory / "bundles" / "birth_bundle.yaml"
    old = "  - procedure: permanent_residence_registration\n    after: [birth_registration]\n"
    new = "  - procedure: permanent_residence_registration\n    after: [child_health_insurance]\n"
    line = edit(path, old, new) + 1  # the ``after`` key
    return path, line, "depends on child_health_insurance, which is not an earlier part"


def bundle_names_unknown_procedure(tmp_path: Path) -> tuple[Path, int, str]:
    directory = copy_catalogue(tmp_path)
    path = directory / "bundles" / "birth_bundle.yaml"
    line = edit(path, "  - procedure: child_health_insurance\n", "  - procedure: child_insurance\n")
    return path, line, "unknown procedure child_insurance"


CASES = [
    pytest.param(unknown_field_type, id="unknown-field-type"),
    pytest.param(missing_english_name, id="missing-name-en"),
    pytest.param(bad_yaml, id="bad-yaml"),
    pytest.param(duplicate_field, id="duplicate-field"),
    pytest.param(steps_not_ending_in_decide, id="steps-not-ending-in-decide"),
    pytest.param(part_depends_on_later_part, id="bundle-part-depends-on-later-part"),
    pytest.param(bundle_names_unknown_procedure, id="bundle-unknown-procedure"),
    pytest.param(code_differs_from_file_name, id="code-differs-from-file-name"),
    pytest.param(negative_fee, id="negative-fee"),
    pytest.param(unknown_prefill_source, id="unknown-prefill-source"),
]
LINE_CASES = CASES


def _find(problems: list[SpecProblem], path: Path, reason: str) -> SpecProblem:
    matching = [p for p in problems if p.path == path and reason in p.reason]
    assert matching, f"no problem in {path.name} with {reason!r}: {[str(p) for p in problems]}"
    return matching[0]


@pytest.mark.parametrize("breaker", CASES)
def test_broken_spec_names_file_and_reason(breaker: Breaker, tmp_path: Path) -> None:
    path, _line, reason = breaker(tmp_path)
    problem = _find(problems_of(tmp_path / "procedures"), path, reason)
    assert str(problem).startswith(f"{path}:{problem.line}: ")


@pytest.mark.parametrize("breaker", LINE_CASES)
def test_broken_spec_names_line_of_offending_key(breaker: Breaker, tmp_path: Path) -> None:
    path, line, reason = breaker(tmp_path)
    problem = _find(problems_of(tmp_path / "procedures"), path, reason)
    assert problem.line == line, str(problem)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    first, _, _ = unknown_field_type(tmp_path)
    second, _, _ = negative_fee(tmp_path)
    problems = problems_of(tmp_path / "procedures")
    assert {p.path for p in problems} == {first, second}


def test_missing_directory(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nowhere")
    assert "does not exist" in problems[0].reason


# --- the command -------------------------------------------------------------------------


def test_command_lists_the_catalogue() -> None:
    out = StringIO()
    call_command("procedures_check", "--dir", str(SHIPPED), stdout=out)
    lines = out.getvalue().splitlines()
    for code in PROCEDURES:
        (line,) = [ln for ln in lines if ln.startswith(f"{code} ")]
        kind, level, _days, _fee = TABLE[code]
        assert f"{kind}/{level}" in line
    assert any(ln.startswith("bundles/birth_bundle ") for ln in lines)
    assert any(ln.startswith("bundles/death_bundle ") for ln in lines)
    assert "200.000 ₫" in next(ln for ln in lines if ln.startswith("judicial_record_certificate"))


def test_command_fails_with_file_line_reason(tmp_path: Path) -> None:
    path, line, _reason = negative_fee(tmp_path)
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("procedures_check", "--dir", str(tmp_path / "procedures"), stderr=err)
    assert caught.value.returncode == 1
    assert f"{path}:{line}: fee.amount: " in err.getvalue()


def _run_cli(directory: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONGDAN_")}
    env.update({"CONGDAN_DEBUG": "1", "CONGDAN_VAR_DIR": str(tmp_path / "var")})
    return subprocess.run(
        [sys.executable, "-m", "congdan.cli", "procedures_check", "--dir", str(directory)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_exit_codes(tmp_path: Path) -> None:
    ok = _run_cli(SHIPPED, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "birth_registration" in ok.stdout
    path, line, _reason = unknown_field_type(tmp_path)
    broken = _run_cli(tmp_path / "procedures", tmp_path)
    assert broken.returncode == 1
    assert f"{path}:{line}: fields.2.type: " in broken.stderr
