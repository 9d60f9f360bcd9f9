# syntax=docker/dockerfile:1
# The operator image: `scheduledrun operator` with the `operator` extra (kopf, kubernetes,
# jinja2, prometheus-client). The chart's Deployment runs it as uid 65532 with a read-only root
# filesystem and an emptyDir at /tmp.
#
# Build from the repository root:
#   docker build -f docker/operator.Dockerfile -t ghcr.io/kagent-dev/kagent-scheduledrun-operator:0.1.0 .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# uv installs exactly what uv.lock pins, without the dev group; bytecode is compiled here because
# the runtime root filesystem is read-only.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.8
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra operator --no-install-project
COPY runner ./runner
COPY generator ./generator
COPY templates ./templates
COPY charts/kagent-scheduledrun/crds ./charts/kagent-scheduledrun/crds
RUN uv sync --frozen --no-dev --extra operator --no-editable

FROM ${PYTHON_IMAGE}
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 8081
ENTRYPOINT ["scheduledrun"]
CMD ["operator"]
