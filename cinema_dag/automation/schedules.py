"""Schedules."""

ALL_SCHEDULES = []
