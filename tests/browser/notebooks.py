"""Small tagged notebooks the browser tests open (nbformat 4 JSON, no outputs)."""

from __future__ import annotations


def tagged_notebook(cells: list[tuple[str, str, list[str]]]) -> dict[str, object]:
    """A Python 3 notebook of code cells given as ``(id, source, tags)``."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {
                "cell_type": "code",
                "id": cell_id,
                "metadata": {"tags": tags},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
            for cell_id, source, tags in cells
        ],
    }
