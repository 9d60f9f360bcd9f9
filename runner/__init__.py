"""The one-shot run inside a Job pod: A2A client, run-history bookkeeping, exit codes."""
