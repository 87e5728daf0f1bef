# syntax=docker/dockerfile:1
# The same steps as .ci/run: build the package from this folder, install it with the pinned runtime dependencies
# (constraints.txt, which .ci/run tests against), run `tap4book-mock serve` as an unprivileged numeric user.
#
# The base is pinned to a patch release. Its digest could not be looked up where this file was written (no
# container registry reachable there); pin it, and refresh it with each Python patch release, with
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm --format '{{json .Manifest.Digest}}'
# then write both FROM lines as python:3.11.14-slim-bookworm@sha256:<that digest>.

FROM python:3.11.14-slim-bookworm AS build
WORKDIR /src
ENV PIP_CONSTRAINT=/src/constraints.txt \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY constraints.txt pyproject.toml README.md LICENSE ./
COPY mockserver ./mockserver
COPY fixtures ./fixtures
RUN pip install --no-cache-dir pip==26.3 && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.14-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    T4B_HOST=0.0.0.0 \
    T4B_PORT=8080 \
    T4B_READY_FILE=/tmp/tap4book-mock.ready
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
# Offline from the wheels just built (--no-index): the image holds exactly the versions of constraints.txt.
RUN pip install --no-cache-dir --no-index --find-links /wheels --constraint /tmp/constraints.txt tap4book-mockserver \
    && rm -rf /wheels /tmp/constraints.txt \
    && useradd --create-home --uid 10001 --user-group sandbox
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/sandbox
EXPOSE 8080
# The server writes its ready line (with the port it actually serves, --port included) to T4B_READY_FILE;
# `tap4book-mock health` probes /__mock/ready there, which no rule or preset can fail. --start-interval probes every
# second while the container starts (Docker Engine 25+), so `docker run --wait`-style waits end within a second.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --start-interval=1s --retries=3 CMD ["tap4book-mock", "health"]
CMD ["tap4book-mock", "serve"]
