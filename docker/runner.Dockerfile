# syntax=docker/dockerfile:1
# The runner image: `scheduledrun run`, started once per CronJob tick, so every megabyte and every
# import is paid on each run. It holds the base dependencies only (httpx, click): neither the
# operator's libraries (kopf, kubernetes, jinja2, prometheus-client, pyyaml) nor the operator's
# and the REST API's own packages are installed, so `scheduledrun --help` lists `run` only.
#
# Built by scripts/images.sh (buildah, or docker where it runs); by hand, from the repository root:
#   docker build -f docker/runner.Dockerfile -t kagent-scheduledrun:0.1.0 \
#     --build-arg VERSION=0.1.0 [--build-arg BASE_IMAGE=...] [--secret id=ca-bundle,src=FILE] .
#
# Build inputs:
#   BASE_IMAGE  a Debian-based image with python3 (3.11+) and its venv module; the default needs
#               Docker Hub, scripts/images.sh makes one with debootstrap when none is given.
#   VERSION     the image's version label (the chart's appVersion; the tag should match).
#   secret ca-bundle  a PEM bundle the build trusts for its downloads (PyPI) instead of the
#               default roots: behind a TLS-intercepting proxy, a bundle holding the proxy's CA.
#               Used by the build stage only; it never reaches the image.

ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# uv installs exactly what uv.lock pins, without the dev group and without the `operator` extra.
# Bytecode is compiled here because the runtime root filesystem is read-only.
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
    /opt/uv/bin/uv sync --frozen --no-dev --no-install-project
COPY runner ./runner
COPY generator ./generator
COPY server ./server
COPY templates ./templates
COPY charts/kagent-scheduledrun/crds ./charts/kagent-scheduledrun/crds
# The wheel holds all three packages; the runner keeps `runner` only (the operator's and the REST
# API's code would only fail to import here, and `scheduledrun --help` lists the subcommands
# whose package is present).
RUN --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle PIP_CERT=/run/secrets/ca-bundle; fi; \
    /opt/uv/bin/uv sync --frozen --no-dev --no-editable && \
    rm -rf /opt/venv/lib/python3*/site-packages/generator /opt/venv/lib/python3*/site-packages/server

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="kagent-scheduledrun runner" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/kagent-dev/kagent"
# A named user for uid/gid 65532: kopf (and getpass) look the uid up in /etc/passwd.
RUN echo "nonroot:x:65532:65532:nonroot:/tmp:/usr/sbin/nologin" >>/etc/passwd && \
    echo "nonroot:x:65532:" >>/etc/group
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The uid and gid the rendered CronJob's pod security context runs as (Pod Security "restricted").
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["scheduledrun"]
CMD ["run", "--help"]
