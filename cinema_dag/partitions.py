"""The disaster-type partitions, shared by assets, jobs, schedules and sensors."""

import dagster as dg

from cinema_dag.disasters import DISASTER_KEYS

disaster_types = dg.StaticPartitionsDefinition(list(DISASTER_KEYS))
