# techauction API / worker image: slim, non-root, migrates then serves.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim
# PYTHONPATH: run the app from /app, where alembic.ini and migrations/ sit beside it.
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 TECHAUCTION_ENV=production \
    TECHAUCTION_VAR_DIR=/var/lib/techauction
# Noto Sans CJK: the signed PDFs embed a subset of it (app/paperwork, docs/decisions/0015).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app techauction \
    && mkdir -p /var/lib/techauction && chown techauction /var/lib/techauction
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=techauction alembic.ini ./
COPY --chown=techauction migrations ./migrations
COPY --chown=techauction app ./app
USER techauction
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["sh", "-c", "techauction migrate && exec techauction serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
