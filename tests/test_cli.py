"""The `jericho` command group: the error handling every command shares, and a group that
depends on no feature (each feature adds its own commands: tests/admin/test_cli.py,
tests/status/ for prune-log; `init` is in test_config.py)."""
import ast
from pathlib import Path

import click
from click.testing import CliRunner

import jericho.cli
from jericho import create_app
from jericho.cli import user_errors


def test_commands_explain_an_uninitialised_database(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "instance").mkdir()
    app = create_app({"SECRET_KEY": "x"}, instance_path=tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["jericho", "token", "create", "--org", "C"])
    assert result.exit_code == 1
    assert "jericho init" in result.output


def test_a_value_error_is_a_one_line_message_and_exit_status_1():
    @click.command()
    @user_errors
    def refuse() -> None:
        raise ValueError("that organization has no such token")

    result = CliRunner().invoke(refuse)
    assert result.exit_code == 1
    assert result.output == "Error: that organization has no such token\n"


def test_the_command_group_imports_nothing_of_the_app():
    tree = ast.parse(Path(jericho.cli.__file__).read_text())
    imported = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imported
    for node in imported:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not node.module.startswith("jericho"), ast.unparse(node)
        else:
            assert not any(alias.name.startswith("jericho") for alias in node.names), ast.unparse(node)
