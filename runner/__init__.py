"""The one-shot run inside a Job pod: A2A client, run-history bookkeeping, exit codes."""

import sys

# `import httpx` also tries to import httpx's own command-line tool (httpx._main), which pulls in
# pygments and rich when they happen to be installed: about a quarter of httpx's import time and
# 6 MB of memory, paid by every runner pod for a CLI it never uses. Marking the module absent makes
# httpx fall back to its stub, exactly as when those extras are not installed.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
