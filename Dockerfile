# syntax=docker/dockerfile:1
# The same steps as .ci/run: build the package from this folder, install it, run `tap4book-mock serve`.
# (.ci/run installs it editable into a venv and runs the tests; the image installs the built wheel.)

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY fixtures ./fixtures
RUN pip install --no-cache-dir --upgrade pip && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    T4B_HOST=0.0.0.0 \
    T4B_PORT=8080 \
    T4B_READY_FILE=/tmp/tap4book-mock.ready
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 sandbox
USER sandbox
WORKDIR /home/sandbox
EXPOSE 8080
# The server writes its ready line (with the port it actually serves, --port included) to T4B_READY_FILE;
# `tap4book-mock health` probes /__mock/ready there, which no rule or preset can fail.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["tap4book-mock", "health"]
CMD ["tap4book-mock", "serve"]
