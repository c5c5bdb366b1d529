# syntax=docker/dockerfile:1
# Production image: the API on uvicorn, as a non-root user, installed from the lock
# (requirements/runtime.txt, hashed). Shapely, pyproj and psycopg wheels carry GEOS, PROJ and
# libpq, so the runtime needs no system packages. Behind a mirror:
#   docker build --build-arg PIP_INDEX_URL=https://MIRROR/simple .

FROM python:3.11-slim-bookworm AS build
# Unset unless given with --build-arg (pip reads them from the environment).
ARG PIP_INDEX_URL
ARG PIP_TRUSTED_HOST
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The locked dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements/runtime.txt requirements/
RUN pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-deps --no-build-isolation .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ZHUCUN_ENV=production \
    ZHUCUN_DOCS=false \
    ZHUCUN_SIGNING_KEY_FILE=/var/lib/zhucun/keys/signing.pem
# /var/lib/zhucun belongs to the service user and is a volume: the signing key (keys/), and
# what the service writes (an SQLite database, checkpoints) when DATABASE_URL or --out point
# there, e.g. DATABASE_URL=sqlite:////var/lib/zhucun/data/zhucun.db. Production refuses to
# start without DATABASE_URL; nothing is written into the image.
RUN useradd --create-home --uid 10001 zhucun \
    && mkdir -p /var/lib/zhucun/keys /var/lib/zhucun/data \
    && chown -R 10001 /var/lib/zhucun
VOLUME ["/var/lib/zhucun"]
COPY --from=build /opt/venv /opt/venv
WORKDIR /var/lib/zhucun
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Worker processes: one per CPU core the container sees unless ZHUCUN_WORKERS says otherwise
# (`docker run -e ZHUCUN_WORKERS=4 …`); each holds its own pool of up to 48 connections.
CMD ["zhucun", "serve", "--host", "0.0.0.0", "--port", "8000"]
