"""The bare Django reference: a fixed small JSON through the full middleware stack."""

from django.http import JsonResponse

PAYLOAD = {"status": "ok", "service": "breach-tracker", "items": [1, 2, 3]}


def ping(request):
    return JsonResponse(PAYLOAD)
