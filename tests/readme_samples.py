"""The Python samples of README.md, as the README shows them: tests run them, so that what a
consumer's developer copies works."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_sample(containing: str) -> str:
    """The one ```python block of the README that contains `containing`."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"README.md has {len(found)} Python samples with {containing!r}"
    return found[0]


def run_sample(code: str, replacements: dict[str, str]) -> dict:
    """Run a sample with its placeholders replaced (each must be there); returns its globals."""
    for placeholder, value in replacements.items():
        assert placeholder in code, f"the sample no longer has {placeholder!r}"
        code = code.replace(placeholder, value)
    namespace: dict = {"__name__": "readme_sample"}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace
