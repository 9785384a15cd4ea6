"""The application's URL map plus the benchmark's reference views."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from config.urls import urlpatterns as app_urlpatterns

from .views import PlainIncidentViewSet, ping

peer = SimpleRouter()
peer.register("bench/plain/incidents", PlainIncidentViewSet, basename="plain-incident")

urlpatterns = [path("bench/ping/", ping, name="bench-ping"), *peer.urls, *app_urlpatterns]
