from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """What goes out and comes in as files: exports of every list (CSV, XLSX), the
    breach notice and the incident dossier (PDF), and imports of suppliers, contacts and
    NDAs (CSV, XLSX). It reads through the other apps' selectors and writes through
    their services; it holds no models of its own."""

    name = "documents"
    default_auto_field = "django.db.models.BigAutoField"
