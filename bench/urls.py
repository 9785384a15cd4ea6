"""The application's URL map plus the bare reference view of the benchmark."""

from django.urls import path

from config.urls import urlpatterns as app_urlpatterns

from .views import ping

urlpatterns = [path("bench/ping/", ping, name="bench-ping"), *app_urlpatterns]
