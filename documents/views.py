"""API views of the documents: the breach notice and the incident dossier as PDF. The
lists' exports are not here: every list viewset exports itself (documents.exports)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.views import APIView

from config.renderers import JSONRenderer

from . import legal

NOT_FOUND = OpenApiResponse(description="Not found or outside your scope.")


class PDFRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; the view writes the PDF itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class PDFView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, PDFRenderer]

    def handle_exception(self, exc):
        # A refusal (401, 404) is answered in JSON, not as a PDF.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @staticmethod
    def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class IncidentDossierView(PDFView):
    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: NOT_FOUND},
        operation_id="incidents_dossier_pdf",
    )
    def get(self, request, pk: int):
        """The incident dossier for legal: facts, the liability chain and why, the
        timeline, evidence with sha256, suspects (staff), penalty and payments, plan and
        actions; what the caller may see of it, in the caller's language."""
        return self.pdf_response(*legal.incident_dossier_pdf(request.user, pk))


class PenaltyNoticeView(PDFView):
    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: NOT_FOUND},
        operation_id="penalties_notice_pdf",
    )
    def get(self, request, pk: int):
        """The formal breach notice to the liable supplier: facts, the NDA clause, the
        amount, the due date and the rectification deadline."""
        return self.pdf_response(*legal.penalty_notice_pdf(request.user, pk))
