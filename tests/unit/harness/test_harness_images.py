"""recipe_hash: an image is rebuilt exactly when something that decides it changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import ImageBuildError
from harness.stack.definition import ImageRecipe
from harness.stack.images import _input_files, recipe_hash, run_prepare

BASE = "sha256:1111"
INPUTS = ("images/app/**", "images/common/**", "service/**")


def make_context(root: Path) -> Path:
    """A build context shaped like the reference stack's, plus files that are not inputs."""
    files = {
        "images/app/Dockerfile": "ARG BASE\nFROM ${BASE}\nCOPY . /src\n",
        "images/app/run.sh": "#!/bin/sh\nexec app\n",
        "images/app/conf/app.conf": "workers=2\n",
        "images/common/systemctl": "#!/bin/sh\n",
        "service/app.py": "print('hello')\n",
        "service/pkg/util.py": "X = 1\n",
        "docs/README.md": "not an input\n",
        "notes.txt": "not an input\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
    return root


def recipe_for(context: Path, *, inputs: tuple[str, ...] = INPUTS,
               build_args: tuple[tuple[str, str], ...] = (("VERSION", "1"),)) -> ImageRecipe:
    return ImageRecipe("gameday/app", context / "images/app/Dockerfile", context, inputs, build_args)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    return make_context(tmp_path / "ctx")


@pytest.fixture
def before(context: Path) -> str:
    return recipe_hash(recipe_for(context), BASE)


def test_the_hash_is_a_sha256_hex_digest(before: str) -> None:
    assert len(before) == 64
    int(before, 16)


def test_the_hash_is_stable_for_the_same_inputs(context: Path, before: str) -> None:
    assert recipe_hash(recipe_for(context), BASE) == before
    assert recipe_hash(recipe_for(context), BASE) == before


def test_the_hash_does_not_depend_on_where_the_context_lives(tmp_path: Path, context: Path, before: str) -> None:
    copy = tmp_path / "elsewhere" / "ctx"
    shutil.copytree(context, copy)
    assert recipe_hash(recipe_for(copy), BASE) == before


def test_the_hash_changes_when_an_input_file_changes(context: Path, before: str) -> None:
    (context / "service/app.py").write_text("print('goodbye')\n")
    assert recipe_hash(recipe_for(context), BASE) != before


def test_the_hash_changes_when_a_nested_input_file_changes(context: Path, before: str) -> None:
    (context / "service/pkg/util.py").write_text("X = 2\n")
    assert recipe_hash(recipe_for(context), BASE) != before


def test_the_hash_changes_when_the_dockerfile_changes(context: Path, before: str) -> None:
    (context / "images/app/Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nRUN true\n")
    assert recipe_hash(recipe_for(context), BASE) != before


def test_the_dockerfile_counts_even_when_no_input_glob_covers_it(context: Path) -> None:
    recipe = recipe_for(context, inputs=("service/**",))
    first = recipe_hash(recipe, BASE)
    (context / "images/app/Dockerfile").write_text("FROM scratch\n")
    assert recipe_hash(recipe, BASE) != first


def test_a_file_added_directly_in_a_folder_glob_changes_the_hash(context: Path, before: str) -> None:
    # pathlib's "images/app/**" matches folders only; the harness must still see files in them.
    (context / "images/app/new.conf").write_text("new\n")
    assert recipe_hash(recipe_for(context), BASE) != before


def test_a_file_added_deeper_in_a_folder_glob_changes_the_hash(context: Path, before: str) -> None:
    (context / "images/common/bin").mkdir()
    (context / "images/common/bin/tool").write_text("#!/bin/sh\n")
    assert recipe_hash(recipe_for(context), BASE) != before


def test_a_folder_glob_includes_the_files_directly_in_that_folder(context: Path) -> None:
    files = {p.relative_to(context).as_posix() for p in _input_files(recipe_for(context))}
    assert files == {
        "images/app/Dockerfile",
        "images/app/run.sh",
        "images/app/conf/app.conf",
        "images/common/systemctl",
        "service/app.py",
        "service/pkg/util.py",
    }


def test_the_hash_changes_when_the_executable_bit_changes(context: Path, before: str) -> None:
    (context / "images/app/run.sh").chmod(0o755)
    assert recipe_hash(recipe_for(context), BASE) != before


def test_the_hash_changes_when_a_build_arg_changes(context: Path, before: str) -> None:
    assert recipe_hash(recipe_for(context, build_args=(("VERSION", "2"),)), BASE) != before
    assert recipe_hash(recipe_for(context, build_args=(("VERSION", "1"), ("EXTRA", "x"))), BASE) != before
    assert recipe_hash(recipe_for(context, build_args=()), BASE) != before


def test_the_hash_changes_when_the_base_image_changes(context: Path, before: str) -> None:
    assert recipe_hash(recipe_for(context), "sha256:2222") != before


def test_the_hash_changes_when_an_input_file_is_renamed(context: Path, before: str) -> None:
    (context / "service/app.py").rename(context / "service/main.py")
    assert recipe_hash(recipe_for(context), BASE) != before


@pytest.mark.parametrize("rel", ["docs/README.md", "notes.txt"])
def test_a_change_outside_the_inputs_keeps_the_hash(context: Path, before: str, rel: str) -> None:
    (context / rel).write_text("changed\n")
    (context / "docs/extra.md").write_text("added\n")
    (context / "images/db").mkdir(parents=True)
    (context / "images/db/Dockerfile").write_text("FROM scratch\n")
    assert recipe_hash(recipe_for(context), BASE) == before


@pytest.mark.parametrize(
    "rel",
    [
        "service/__pycache__/app.cpython-311.pyc",
        "service/pkg/__pycache__/util.cpython-311.pyc",
        "service/stale.pyc",
        "service/.pytest_cache/v/cache/lastfailed",
        "service/.mypy_cache/3.11/app.data.json",
        "service/.git/HEAD",
    ],
)
def test_caches_and_bytecode_under_the_inputs_keep_the_hash(context: Path, before: str, rel: str) -> None:
    path = context / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00cache")
    assert recipe_hash(recipe_for(context), BASE) == before


# --- the host step (x-gameday.prepare) ------------------------------------------------------------


def _with_step(context: Path, script: str) -> ImageRecipe:
    step = context / "step.sh"
    step.write_text("#!/bin/sh\n" + script)
    step.chmod(0o755)
    return ImageRecipe("t/app", context / "images/app/Dockerfile", context, ("**/*",), prepare=("step.sh", "made"))


def test_the_host_step_runs_in_the_context_with_its_arguments(context: Path) -> None:
    run_prepare(_with_step(context, 'echo "$1" > out.txt\n'))
    assert (context / "out.txt").read_text() == "made\n"


def test_a_failing_host_step_is_a_build_error_with_its_output(context: Path) -> None:
    with pytest.raises(ImageBuildError) as info:
        run_prepare(_with_step(context, 'echo "npm ERR! registry unreachable" >&2\nexit 7\n'))
    assert "exit 7" in str(info.value)
    assert "registry unreachable" in (info.value.log_tail or "")


def test_what_the_host_step_makes_is_an_input_of_the_image(context: Path) -> None:
    recipe = _with_step(context, 'echo "$1" > out.txt\n')
    before = recipe_hash(recipe, "sha256:base")
    run_prepare(recipe)
    assert recipe_hash(recipe, "sha256:base") != before
