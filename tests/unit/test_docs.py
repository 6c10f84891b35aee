"""docs/architecture.md is the map of the code: every module is in its package's section, and what the
code and the docs point to exists inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
DECISIONS = ROOT / "docs" / "decisions"


def _sections() -> dict[str, str]:
    """Each ``## `` section of the map by heading."""
    parts = re.split(r"^## ", ARCHITECTURE.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0]: part for part in parts}


def _section_of(package: str, sections: dict[str, str]) -> str:
    found = [text for heading, text in sections.items() if f"`bulkops.{package}`" in heading]
    assert len(found) == 1, f"docs/architecture.md needs one section headed with `bulkops.{package}`"
    return found[0]


def test_every_module_is_named_in_its_package_section() -> None:
    sections = _sections()
    missing = []
    for path in sorted((ROOT / "bulkops").rglob("*.py")):
        relative = path.relative_to(ROOT / "bulkops")
        if path.name in ("__init__.py", "__main__.py"):  # the package surface and `python -m`
            continue
        package = relative.parts[0] if len(relative.parts) > 1 else path.stem
        section = _section_of(package, sections)
        if not re.search(rf"(?<![\w.]){re.escape(path.stem)}\.(py\b|[A-Za-z_])", section):
            missing.append(str(relative))
    assert not missing, "modules the map does not name in their package's section: " + ", ".join(missing)


def test_every_decision_is_indexed_and_every_reference_to_one_exists() -> None:
    records = sorted(p.name for p in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    index = (DECISIONS / "README.md").read_text(encoding="utf-8")
    assert records, "docs/decisions holds the decision records"
    assert [name for name in records if f"({name})" not in index] == []
    numbers = [name[:4] for name in records]
    assert numbers == [f"{n:04d}" for n in range(1, len(numbers) + 1)]
    texts = [ARCHITECTURE.read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "bulkops").rglob("*.py")]
    for text in texts:
        for number, name in re.findall(r"docs/decisions/(\d{4})(-[\w-]+\.md)?", text):
            assert any(r.startswith(number) for r in records), f"docs/decisions/{number} does not exist"
            if name:
                assert f"{number}{name}" in records, f"docs/decisions/{number}{name} does not exist"


def test_code_points_to_no_document_outside_the_repository() -> None:
    outside = re.compile(r"DESIGN\.md|DESIGN §|design card|\.\./shared|/work/")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "bulkops").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert found == []
