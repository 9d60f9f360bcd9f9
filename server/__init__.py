"""The REST API of ScheduledRuns (`scheduledrun serve`): kagent's routes over the Kubernetes API.

Kubernetes stays the only store and the only judge of who may do what: in `client` auth mode
every call to the apiserver carries the caller's own bearer token. The runner never imports this
package; it needs the `server` extra (FastAPI, uvicorn).
"""
