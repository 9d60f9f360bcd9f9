"""The CronJob a ScheduledRun becomes: the settings it takes from the operator (`config`), the
rendering (`render`, from `templates/`) and where a live CronJob differs from it (`drift`). Pure."""
