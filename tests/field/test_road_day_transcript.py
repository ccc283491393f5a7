"""The README's technician day on the field-service example is what docs/road_day.py prints."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_road_day_is_the_scripts_output(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        runpy.run_path(str(ROOT / "docs" / "road_day.py"), run_name="__main__")
    printed = capsys.readouterr().out
    readme = (ROOT / "README.md").read_text()
    start = readme.index("made by `docs/road_day.py`")
    block = readme[readme.index("```\n", start) + 4 : readme.index("```\n\n", start + 1)]
    assert block == printed
    assert "Lakeshore Home Services" in printed and "maria> on my way" in printed
