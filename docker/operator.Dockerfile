# syntax=docker/dockerfile:1
# The operator image: `scheduledrun operator` with the `operator` extra (kopf, kubernetes,
# jinja2, prometheus-client), and `scheduledrun serve` (the REST API) with the `server` extra
# (FastAPI, uvicorn): the chart runs both from this one image. The chart's Deployment runs it as uid 65532 with a read-only root
# filesystem and an emptyDir at /tmp.
#
# Built by scripts/images.sh (buildah, or docker where it runs); by hand, from the repository root:
#   docker build -f docker/operator.Dockerfile -t kagent-scheduledrun-operator:0.1.0 \
#     --build-arg VERSION=0.1.0 [--build-arg BASE_IMAGE=...] [--secret id=ca-bundle,src=FILE] .
#
# Build inputs: BASE_IMAGE, VERSION and the ca-bundle secret, as in docker/runner.Dockerfile.

ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# uv installs exactly what uv.lock pins, without the dev group; bytecode is compiled here because
# the runtime root filesystem is read-only.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_NO_CACHE=1
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle PIP_CERT=/run/secrets/ca-bundle; fi; \
    python3 -m venv /opt/uv && \
    /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check --quiet uv==0.13.8
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle PIP_CERT=/run/secrets/ca-bundle; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --extra operator --extra server --no-install-project
COPY runner ./runner
COPY generator ./generator
COPY server ./server
COPY templates ./templates
COPY charts/kagent-scheduledrun/crds ./charts/kagent-scheduledrun/crds
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle PIP_CERT=/run/secrets/ca-bundle; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --extra operator --extra server --no-editable

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="kagent-scheduledrun operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/kagent-dev/kagent"
# A named user for uid/gid 65532: kopf (and getpass) look the uid up in /etc/passwd.
RUN echo "nonroot:x:65532:65532:nonroot:/tmp:/usr/sbin/nologin" >>/etc/passwd && \
    echo "nonroot:x:65532:" >>/etc/group
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080 8081
ENTRYPOINT ["scheduledrun"]
CMD ["operator"]
