"""SECURITY.md names the test that holds each guarantee: every test module and test it names is
there, so a test moved or renamed is a change to the document too."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_MODULE = re.compile(r"tests/[\w/]+\.py")
TEST_NAME = re.compile(r"\btest_\w+\b(?!\.py)")


def test_every_test_security_md_names_is_there():
    text = (ROOT / "SECURITY.md").read_text()
    modules = set(TEST_MODULE.findall(text))
    assert modules and not {module for module in modules if not (ROOT / module).is_file()}
    defined = {name for path in (ROOT / "tests").rglob("test_*.py")
               for name in re.findall(r"^\s*def (test_\w+)", path.read_text(), flags=re.M)}
    named = set(TEST_NAME.findall(text))
    assert named and named <= defined, sorted(named - defined)
