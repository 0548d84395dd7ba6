"""Jobs, schedules and sensors: every module here is scanned by :mod:`cinema_dag.definitions` (no list to edit)."""
