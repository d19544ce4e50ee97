from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from field.services.audit import origin_kept


class AuditOriginMiddleware:
    """Keeps the request's origin (address, device) for the audit events that the
    services record while serving it: they are not handed the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with origin_kept(request):
            return self.get_response(request)
