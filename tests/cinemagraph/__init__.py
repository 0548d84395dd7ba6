"""Tests of the cinemagraph engine (a package, so file names cannot clash with other test folders)."""
