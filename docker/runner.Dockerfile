# syntax=docker/dockerfile:1
# The runner image: `scheduledrun run`, started once per CronJob tick, so every megabyte and every
# import is paid on each run. It holds the base dependencies only (httpx, click): the operator's
# libraries (kopf, kubernetes, jinja2, prometheus-client) are not installed.
#
# Build from the repository root:
#   docker build -f docker/runner.Dockerfile -t ghcr.io/kagent-dev/kagent-scheduledrun:0.1.0 .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# uv installs exactly what uv.lock pins; --no-dev leaves out the test tools, no --extra leaves out
# the operator. Bytecode is compiled here because the runtime root filesystem is read-only.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.8
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY runner ./runner
COPY generator ./generator
COPY templates ./templates
COPY charts/kagent-scheduledrun/crds ./charts/kagent-scheduledrun/crds
RUN uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE}
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The uid the rendered CronJob's pod security context runs as (Pod Security "restricted").
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["scheduledrun"]
CMD ["run", "--help"]
