"""``/healthz``: whether this process can serve, for the reverse proxy, the
container runtime and monitoring. No login, so it says nothing but "ok" or which
check failed: no counts, versions or data."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Every page reads PostGIS; a database without the extension (a restore into a
# fresh server, say) answers SELECT 1 and fails everything else.
CHECKS = (("database", "SELECT 1"), ("postgis", "SELECT postgis_version()"))


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    for name, sql in CHECKS:
        try:
            # A savepoint, so that a failed check leaves the connection usable
            # (and a test's transaction too).
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
                cursor.fetchone()
        except DatabaseError:
            logger.exception("health check %s failed", name)
            checks[name] = "fail"
        else:
            checks[name] = "ok"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )
