# syntax=docker/dockerfile:1
# The same steps as .ci/run: build the package from this folder, install it, run `tap4book-mock serve`.

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
    T4B_PORT=8080
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 sandbox
USER sandbox
WORKDIR /home/sandbox
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('T4B_PORT', '8080'), timeout=2)"]
CMD ["tap4book-mock", "serve"]
