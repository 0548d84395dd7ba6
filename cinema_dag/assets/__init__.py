"""Dagster assets, one module per stage: thin glue between the artefact store and the core."""
