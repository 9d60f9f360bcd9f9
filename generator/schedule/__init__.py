"""Cron schedules as Kubernetes fires them: robfig/cron v3 parsing and fire times (`cron`), `H`
forms hashed per ScheduledRun (`hashed`), and a time zone's daylight-saving changes (`dst`).
Pure."""
