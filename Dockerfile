# syntax=docker/dockerfile:1
# Production image: the API on uvicorn, as a non-root user. Shapely, pyproj and psycopg wheels
# carry GEOS, PROJ and libpq, so the runtime needs no system packages.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ZHUCUN_ENV=production \
    ZHUCUN_DOCS=false \
    ZHUCUN_SIGNING_KEY_FILE=/var/lib/zhucun/keys/signing.pem
# The signing key's folder belongs to the service user (a volume there keeps the key).
RUN useradd --create-home --uid 10001 zhucun \
    && mkdir -p /var/lib/zhucun/keys && chown 10001 /var/lib/zhucun/keys
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/zhucun
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Worker processes: one per CPU core the container sees unless ZHUCUN_WORKERS says otherwise
# (`docker run -e ZHUCUN_WORKERS=4 …`); each holds its own pool of up to 48 connections.
CMD ["zhucun", "serve", "--host", "0.0.0.0", "--port", "8000"]
