"""The operator: validation, rendering a ScheduledRun into a CronJob, kopf handlers, metrics."""
