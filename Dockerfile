# streamfn: one image for the gateway (default) and the runners (`command: runner`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install from a throwaway source dir: the image keeps only the installed package.  gateway/,
# runner/ and lua/ install as streamfn.gateway, streamfn.runner and streamfn.lua (streamfn/
# holds symlinks to them), the .lua files as package data.  The import check runs isolated
# (-I: no current dir on sys.path) so it sees the installed copy, not /src.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY streamfn ./streamfn
COPY gateway ./gateway
COPY runner ./runner
COPY lua ./lua
RUN pip install . \
 && python -I -c "from streamfn.scripts import SCRIPTS; import streamfn.gateway.app, streamfn.runner.supervisor" \
 && rm -rf /src

RUN groupadd --system --gid 10001 streamfn \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home streamfn
WORKDIR /app
COPY --chown=root:root functions ./functions

# The gateway listens on every interface of the container; compose publishes only its port.
ENV STREAMFN_HOST=0.0.0.0 \
    STREAMFN_PORT=8080 \
    STREAMFN_FUNCTIONS_DIR=/app/functions \
    STREAMFN_RUNNER_METRICS_PORT=9091
EXPOSE 8080 9091

# Numeric, so runtimes can verify it is not root (Kubernetes runAsNonRoot).
USER 10001:10001
ENTRYPOINT ["streamfn"]
CMD ["gateway"]
