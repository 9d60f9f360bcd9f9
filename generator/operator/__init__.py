"""The kopf operator: what it knows (`cache`), what should be true (`plan`, `sweep`), when to look
again (`requeue`, one task for every ScheduledRun), carrying it out (`controller`, over its one
API client `kube`), kopf's adapters and settings (`handlers`, `kopf_settings`) and its metrics
(`metrics`, `metrics_server`)."""
