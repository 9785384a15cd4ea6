"""django-axes lockout response: JSON for API clients, axes' plain message elsewhere (the
login page renders its own lockout notice)."""

from axes.helpers import get_cool_off, get_lockout_message
from django.http import HttpResponse, JsonResponse


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    if request.path.startswith("/api/"):
        detail = "Too many failed sign-in attempts: this account is locked"
        detail += f" for {minutes} minutes." if minutes else "."
        return JsonResponse({"detail": detail, "code": "locked_out"}, status=429)
    return HttpResponse(get_lockout_message(), status=429, content_type="text/plain")
