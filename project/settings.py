"""The one settings module. Every deployment difference comes from the environment."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from project.env import database_from_url, env_bool, env_int, env_list, env_str
from project.security import tile_sources

BASE_DIR = Path(__file__).resolve().parent.parent

# Tests and the type checker (whose Django plugin loads this module) run no
# deployment, so they may use the throwaway key below.
TESTING = "pytest" in sys.modules or env_bool("TAKHAI_TESTING", False)
_TYPE_CHECKING_RUN = "mypy" in sys.modules
DEBUG = env_bool("DJANGO_DEBUG", False)

# Outside tests and debug runs the key must come from the environment; a committed
# fallback would sign every deployment's sessions with the same public key.
_secret = os.environ.get("DJANGO_SECRET_KEY") or os.environ.get("DJANGO_SECRET_KEY_FILE")
if _secret:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
elif TESTING or DEBUG or _TYPE_CHECKING_RUN:
    SECRET_KEY = "insecure-key-for-tests-and-local-debug-only"  # noqa: S105
else:
    raise RuntimeError("DJANGO_SECRET_KEY is not set (or DJANGO_SECRET_KEY_FILE)")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "leaflet",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "axes",
    "csp",
    "geo",
    "field",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "project.middleware.ThaiFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: both look at request.user.
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.DeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out login is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The tablet app is served by this site and logs in through its login page, so the
# session cookie (with CSRF on writes) is the one way in: no tokens to leak or expire.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Compact separators: the tablets sync over slow mobile links.
    "COMPACT_JSON": True,
    "UNICODE_JSON": True,
}
SPECTACULAR_SETTINGS = {"TITLE": "Takhai field API", "VERSION": "1", "SERVE_INCLUDE_SCHEMA": False}

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/takhai")
    )
}
if TESTING:
    # Live-server threads would otherwise keep connections that block dropping
    # the test database at the end of the run.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "field-start"
LOGOUT_REDIRECT_URL = "home"

# --- login throttling (django-axes) ---------------------------------------------------------
# Keyed on username and address together: a guesser is stopped on that account from
# that address, while the same member on another tablet, or a colleague behind the
# same mobile carrier's NAT, can still log in. An administrator unlocks early in the
# admin ("Access attempts": delete the rows) or with `manage.py axes_reset_username`.
AXES_FAILURE_LIMIT = env_int("TAKHAI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("TAKHAI_LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "project.security.client_ip"
# The client's address, for the throttle and the audit log, is the socket's; behind a
# reverse proxy whose address (or network, "10.0.0.0/8") is listed here, the
# right-most X-Forwarded-For entry that is not such a proxy (project/security.py).
TRUSTED_PROXIES = env_list("TAKHAI_TRUSTED_PROXIES", [])
# Failed attempts are kept (for the lockout and the admin's list); the access log of
# every successful login is not: it would be a register of who worked when.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- sessions ---------------------------------------------------------------------------------
# Tablets are shared by a team, and phones get lost: a session ends after
# TAKHAI_SESSION_IDLE_MINUTES without a request, after TAKHAI_SESSION_MAX_HOURS in
# any case (a working day: a session taken over is not good for a week), and when
# the browser closes. No "remember this device": the tablet app needs no session to
# work offline (its shell and cases live in the service worker's cache and
# IndexedDB), only to sync, and a log-in at sync time costs a member seconds, where
# a session living on a lost tablet exposes every child of the team's area.
# An expired session never costs queued visits: the app keeps its queue and asks
# for a log-in, then syncs (static/field/tablet/app.js).
SESSION_IDLE_SECONDS = env_int("TAKHAI_SESSION_IDLE_MINUTES", 30) * 60
SESSION_MAX_SECONDS = env_int("TAKHAI_SESSION_MAX_HOURS", 10) * 3600
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Thai first: the interface opens in Thai and English is a switch away.
LANGUAGE_CODE = "th"
LANGUAGES = [("th", _("Thai")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Bangkok"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".local" / "staticfiles"
# Front-end libraries come from npm (package.json) and are served from this server,
# because tablets in the field often have no connection. Leaflet from npm is put
# ahead of django-leaflet's bundled copy so there is one pinned version.
STATICFILES_DIRS: list[str | tuple[str, str] | Path] = [
    BASE_DIR / "static",
    ("leaflet", str(BASE_DIR / "node_modules" / "leaflet" / "dist")),
    ("markercluster", str(BASE_DIR / "node_modules" / "leaflet.markercluster" / "dist")),
    ("chartjs", str(BASE_DIR / "node_modules" / "chart.js" / "dist")),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING or DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Tests and debug runs serve static files straight from the finders; deployments
# serve what collectstatic put in STATIC_ROOT.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = TESTING or DEBUG

TILE_URL = env_str("TAKHAI_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
TILE_ATTRIBUTION = env_str("TAKHAI_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (15.87, 100.99),
    "DEFAULT_ZOOM": 6,
    "MIN_ZOOM": 5,
    "MAX_ZOOM": 18,
    "TILES": [(_("Base map"), TILE_URL, {"attribution": TILE_ATTRIBUTION, "maxZoom": 19})],
    "ATTRIBUTION_PREFIX": "Takhai",
    "RESET_VIEW": False,
}

# Boundary files of the Royal Thai Survey Department (OCHA COD-AB). The importer
# reads them from a path; nothing of them is kept in the repository.
BOUNDARIES_DIR = Path(
    env_str("TAKHAI_BOUNDARIES_DIR", str(BASE_DIR.parent / "shared" / "data" / "boundaries"))
)
CACHE_DIR = Path(env_str("TAKHAI_CACHE_DIR", str(BASE_DIR / ".local" / "cache")))
DEMO_DIR = Path(env_str("TAKHAI_DEMO_DIR", str(BASE_DIR / ".local" / "demo")))
# A point within this distance of a tambon, but inside none (the published
# polygons are simplified, so coastal and border villages can fall just outside),
# is assigned to the nearest tambon and flagged as snapped.
GEOCODE_SNAP_METRES = env_int("TAKHAI_GEOCODE_SNAP_METRES", 250)

# Registry files uploaded on the import page are kept here until their import has
# run, then deleted: they hold children's personal data, and the run keeps its
# counts, report and the file's SHA-256.
IMPORT_UPLOAD_DIR = Path(env_str("TAKHAI_IMPORT_UPLOAD_DIR", str(BASE_DIR / ".local" / "uploads")))
# A province's population extract is tens of megabytes; far beyond that is a mistake
# (or an attack) rather than a registry file.
IMPORT_MAX_UPLOAD_BYTES = env_int("TAKHAI_IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
# An import of a whole province takes minutes: by default it runs in a background
# thread and the page follows its progress. Tests run it in the request, so they
# see its outcome without waiting on a thread.
IMPORT_INLINE = env_bool("TAKHAI_IMPORT_INLINE", TESTING)
# Files given to the import commands on the server: a national population extract
# runs to a few hundred megabytes, and rows are streamed, never all in memory.
IMPORT_MAX_FILE_BYTES = env_int("TAKHAI_IMPORT_MAX_FILE_BYTES", 4 * 1024 * 1024 * 1024)
# A CSV file this large is read by IMPORT_WORKERS processes at once (the command
# line only: the web page's imports run in a thread, which must not fork).
IMPORT_WORKERS = env_int("TAKHAI_IMPORT_WORKERS", os.cpu_count() or 1)
IMPORT_PARALLEL_BYTES = env_int("TAKHAI_IMPORT_PARALLEL_BYTES", 20 * 1024 * 1024)
# The target age window of find_unreached (EEF's 3-18) and its compulsory band.
TARGET_MIN_AGE = env_int("TAKHAI_TARGET_MIN_AGE", 3)
TARGET_MAX_AGE = env_int("TAKHAI_TARGET_MAX_AGE", 18)
# Published counts of children, cases and homes below this are withheld (the gap
# map): a tambon's 1 or 2 points at a household the neighbours know.
SUPPRESS_K = env_int("TAKHAI_SUPPRESS_K", 5)
COMPULSORY_AGES = (6, 15)
# Households a volunteer follows unless the list gives a capacity, and how far from
# home a district sends them unless its coordinator sets another limit.
VOLUNTEER_DEFAULT_CAPACITY = env_int("TAKHAI_VOLUNTEER_CAPACITY", 20)
ZONE_MAX_DISTANCE_M = env_int("TAKHAI_ZONE_MAX_DISTANCE_M", 3000)
# The officials' map's access to school: a child living farther than this, on the
# ground, from the nearest school teaching their level. After changing either,
# refresh the statistics in full (refresh_stats --full): an incremental refresh
# recounts changed tambons only and would mix the two distances.
SCHOOL_DISTANCE_PRIMARY_M = env_int("TAKHAI_SCHOOL_DISTANCE_PRIMARY_M", 3000)
SCHOOL_DISTANCE_SECONDARY_M = env_int("TAKHAI_SCHOOL_DISTANCE_SECONDARY_M", 5000)
# Home-visit routes: road distance over straight distance (project/env.py has no float
# reader, hence the conversion here), and how long a visited case may wait for its
# next visit before a day plan puts it before the routine ones.
ROUTE_CIRCUITY = float(env_str("TAKHAI_ROUTE_CIRCUITY", "1.3"))
FOLLOW_UP_DAYS = env_int("TAKHAI_FOLLOW_UP_DAYS", 14)
# An OSRM server (http://host:5000) for road distances in day plans; empty: great-circle
# distance times the circuity factor. When the server fails, plans fall back to that.
OSRM_URL = env_str("OSRM_URL", "")

# Debian 12 ships GDAL 3.6, which cannot block file and network access from spatial
# reference strings (GDAL 3.9+ can). Boundary files are read only from operators'
# paths; the upload checks that reject hostile files do not rely on GDAL for it.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# JSON lines on stderr, for the container runtime to collect; the filter on the
# handler redacts personal data from every record (project/logs.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "project.logs.PersonalDataFilter"}},
    "formatters": {"json": {"()": "project.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    # Django's own loggers propagate to the root, so through the same filter.
    "loggers": {"django": {"level": env_str("DJANGO_LOG_LEVEL", "INFO")}},
}

# --- HTTPS and headers -----------------------------------------------------------------------
# Production serves HTTPS only, behind a reverse proxy that ends TLS
# (docs/deploy.md). The demo on http://127.0.0.1 and the tests say
# TAKHAI_HTTPS=false (scripts/demo sets it), which turns off the redirect, secure
# cookies and HSTS; debug runs default to it too. Anything else defaults to HTTPS.
HTTPS = env_bool("TAKHAI_HTTPS", not (DEBUG or TESTING))
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
# The health check is asked by the proxy and the container runtime over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preloading commits the whole registrable domain (often a ministry's, not
    # ours) to HTTPS in every browser's source; its owner decides, by setting
    # DJANGO_SECURE_HSTS_PRELOAD=true. Without it check --deploy warns (W021).
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# Only behind a proxy that sets X-Forwarded-Proto itself (and strips the client's):
# anywhere else a client could claim HTTPS with it.
if env_bool("TAKHAI_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# The tablet app reads the CSRF token from its cookie (static/field/tablet/sync.js).
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp) ----------------------------------------------------
# Scripts only from this site's files: no inline script, no handler attributes, no
# eval (tests/project/test_csp.py checks the templates). JSON data blocks
# (json_script) are not scripts and need nothing. Styles: files from this site, and
# style attributes, which the templates use for data-driven widths and colours
# (bars, swatches) and Leaflet's divIcons too; an attribute cannot run script nor
# select anything to leak, so allowing it costs little against a full rework. The
# map tiles come from TAKHAI_TILE_URL's host, which the service worker also fetches
# (connect-src). The route sheet adds the hashes of its folium map
# (field/route_views.py); the exported HTML map report is a standalone file with
# Leaflet inlined, exempt (field/export_views.py).
_TILES = tile_sources(TILE_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", *_TILES],
        "connect-src": ["'self'", *_TILES],
        "font-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'self'"],
    }
}

# --- the audit log (field/services/audit.py): the origin of each request ---
MIDDLEWARE += ["field.middleware.AuditOriginMiddleware"]
