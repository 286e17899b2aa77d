"""`x-gameday.project_dir`: a Compose file may use files of an enclosing folder it names (a program
kept once for several systems), and still nothing outside that folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import DefinitionError
from harness.stack.compose import load_compose
from harness.stack.definition import ImageRecipe

SHARED = """\
name: shop
x-gameday:
  project_dir: ..
services:
  api:
    image: team/upstream
    build:
      context: ../common/upstream
    x-gameday:
      inputs: ["**"]
"""


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "common" / "upstream").mkdir(parents=True)
    (tmp_path / "common" / "upstream" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "shop").mkdir()
    path = tmp_path / "shop" / "compose.yaml"
    path.write_text(text)
    return path


def test_a_build_context_in_the_named_enclosing_folder_is_read(tmp_path: Path) -> None:
    definition = load_compose(project(tmp_path, SHARED), environ={})
    recipe = definition.service("api").image
    assert isinstance(recipe, ImageRecipe)
    assert recipe.context == (tmp_path / "common" / "upstream").resolve()


def test_without_project_dir_an_enclosing_folder_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="outside the project folder"):
        load_compose(project(tmp_path, SHARED.replace("x-gameday:\n  project_dir: ..\n", "")), environ={})


@pytest.mark.parametrize(("value", "words"), [
    ("../../..", "at most 2 folders above"),
    ("common", "does not hold this file"),
    ("/", "never the file system's root"),
    ("''", "must be a folder"),
])
def test_a_project_dir_that_does_not_hold_the_file_or_reaches_too_far_is_refused(
        tmp_path: Path, value: str, words: str) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    path = project(deep, SHARED.replace("project_dir: ..", f"project_dir: {value}"))
    with pytest.raises(DefinitionError, match=words) as info:
        load_compose(path, environ={})
    assert info.value.line == 3


def test_files_outside_the_project_dir_are_refused(tmp_path: Path) -> None:
    (tmp_path.parent / "elsewhere.env").write_text("A=1\n")
    text = SHARED + "    env_file: ../../elsewhere.env\n"
    with pytest.raises(DefinitionError, match="outside the project folder"):
        load_compose(project(tmp_path, text), environ={})
