"""What a ScheduledRun's spec means: the `Accepted` verdict (`validate`), the stop and pause rules
(`policies`) and whether a manual run may start now (`trigger`). Pure; the REST API uses these
too."""
