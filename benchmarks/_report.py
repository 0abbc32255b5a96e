"""A benchmark's Markdown: printed, and also written to ``--out`` when given."""

from __future__ import annotations

from pathlib import Path


def publish(text: str, out: str | None) -> None:
    """Print ``text``; write it (with a final newline) to the file ``out`` too."""
    print(text)
    if out:
        Path(out).write_text(text + "\n")
