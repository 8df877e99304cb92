"""The documentation stays true: every setting is in .env.example and the README, with its default."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / ".env.example"


def example_names() -> set[str]:
    return {line.split("=")[0] for line in EXAMPLE.read_text().splitlines() if re.match(r"^[A-Z_]+=", line)}


def test_every_setting_is_in_env_example_and_readme() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    assert example_names() == fields
    readme = (ROOT / "README.md").read_text()
    assert [name for name in sorted(fields) if f"`{name}`" not in readme] == []


def test_env_example_copied_to_dot_env_gives_the_defaults(tmp_path: Path) -> None:
    copied = tmp_path / ".env"
    copied.write_text(EXAMPLE.read_text())
    from_file = Settings(_env_file=copied)
    defaults = Settings(_env_file=None)
    assert from_file.model_dump(exclude={"figurebot_data_dir"}) == defaults.model_dump(
        exclude={"figurebot_data_dir"}
    )
    assert from_file.figurebot_data_dir.resolve() == defaults.figurebot_data_dir.resolve()


def test_readme_commands_are_the_ci_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"\n{ci}\n" in readme
