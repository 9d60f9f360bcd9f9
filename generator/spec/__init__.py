"""What a ScheduledRun's spec means: the `Accepted` verdict (`validate`), the stop and pause rules
(`policies`), whether a manual run may start now (`trigger`) and the next fire times (`preview`).
Pure; the REST API uses these too."""
