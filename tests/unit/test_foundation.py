"""The foundation: the wall between engine and interface, the CLI basics, isolated dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from engines import paths
from tui.cli import SUBCOMMANDS, cli


def test_engines_and_profiles_never_import_textual_or_rich() -> None:
    """The wall between engines and interface (engines/ and profiles/ never import Textual or Rich), checked in a fresh interpreter."""
    code = (
        "import sys, pkgutil, importlib\n"
        "import engines, profiles\n"
        "for pkg in (engines, profiles):\n"
        "    for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(mod.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"engines/profiles imported: {result.stdout.strip()}"


def test_version_and_help_load_no_model_and_no_textual() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tui.cli import cli\n"
        "r1 = CliRunner().invoke(cli, ['--version'])\n"
        "r2 = CliRunner().invoke(cli, ['--help'])\n"
        "assert r1.exit_code == 0 and r2.exit_code == 0, (r1.output, r2.output)\n"
        "heavy = [m for m in ('textual', 'llama_cpp') if m in sys.modules]\n"
        "print(r1.output.strip()); print('HEAVY:' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "llmbench, version" in result.stdout
    assert "HEAVY:\n" in result.stdout + "\n"


def test_help_lists_every_subcommand() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "llmbench"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("llmbench, version ")


def test_dirs_point_into_the_temporary_home(isolated_dirs: Path) -> None:
    for directory in (paths.config_dir(), paths.data_dir(), paths.cache_dir(), paths.log_dir()):
        assert str(directory).startswith(str(isolated_dirs))
    assert os.environ["HF_HOME"].startswith(str(isolated_dirs))
