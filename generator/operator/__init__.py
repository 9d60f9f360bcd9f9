"""The kopf operator: what it knows (`cache`), what should be true (`plan`, `sweep`, `requeue`),
carrying it out (`controller`, over its one API client `kube`), kopf's adapters and settings
(`handlers`, `kopf_settings`) and its metrics (`metrics`, `metrics_server`)."""
