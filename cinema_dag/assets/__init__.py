"""Dagster assets, one module per stage: thin glue between the artefact store and the core.

This package is the project's dg defs folder (``defs_module`` in ``pyproject.toml``): every module in
it is imported when the definitions load and its assets and asset checks are collected, so a new
module needs no list. Helper modules (``_common.py``) are imported too: keep them free of import-time
work.
"""
