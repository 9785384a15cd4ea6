from django.urls import path

from . import page_views

app_name = "documents"

urlpatterns = [
    path("suppliers/import/", page_views.import_page, name="import"),
]
