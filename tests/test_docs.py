"""Run every ```python block of README.md and docs/*.md.

The blocks of one file run in order in one namespace, as a reader would paste them.
A block written as a doctest (``>>>`` prompts) is checked with doctest.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")] if p.exists())
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, source) of each ```python block."""
    return [
        (text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in FENCE.finditer(text)
    ]


def run_block(source: str, filename: str, line: int, namespace: dict) -> None:
    """Execute one block; tracebacks point at ``filename`` and its real line numbers."""
    if any(text.lstrip().startswith(">>>") for text in source.splitlines()):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(source, namespace, filename, filename, line - 1)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, clear_globs=False)
        assert not runner.failures, f"{runner.failures} doctest failure(s)"
    else:
        exec(compile("\n" * (line - 1) + source, filename, "exec"), namespace)


def test_block_parser_finds_blocks_and_lines():
    text = "intro\n```python\na = 1\n```\n```text\nb\n```\n\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (10, "b = a + 1\n")]


def test_docs_exist():
    assert ROOT / "docs" / "conventions.md" in FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_examples_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__doc_example__"}
    filename = str(path.relative_to(ROOT))
    for number, (line, source) in enumerate(blocks, start=1):
        try:
            run_block(source, filename, line, namespace)
        except Exception as exc:
            message = f"{filename}, block {number} (line {line}) failed: {exc!r}"
            raise AssertionError(message) from exc
