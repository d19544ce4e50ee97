# syntax=docker/dockerfile:1
# The web app as one image: `docker compose up` (see docker-compose.yml and README.md).

# Build stage: compiles psycopg2 and fetches the pinned front-end libraries.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
RUN python -m venv /opt/venv
COPY pyproject.toml ./
COPY project ./project
COPY geo ./geo
COPY field ./field
COPY accounts ./accounts
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check .

# Run stage: GDAL for GeoDjango, gettext for the Thai translations, no compiler, no node;
# postgresql-client (15 in bookworm, as the server) for `manage.py backup` and `restore`.
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends gdal-bin libgdal32 gettext libpq5 \
        postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --no-create-home --home-dir /app takhai
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TAKHAI_BOUNDARIES_DIR=/data/boundaries
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/node_modules ./node_modules
COPY . .
# Settings refuse to load without a key; this one only signs nothing at build time.
RUN export DJANGO_SECRET_KEY=build-time-only \
    && if [ -d locale ]; then python manage.py compilemessages --ignore node_modules -v0; fi \
    && python manage.py collectstatic --noinput -v0 \
    && mkdir -p .local/cache .local/demo .local/backups \
    && chown -R takhai:takhai .local/cache .local/demo .local/staticfiles .local/backups \
    && chmod 700 .local/backups
USER takhai
EXPOSE 8000
CMD ["gunicorn", "project.wsgi", "-b", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
