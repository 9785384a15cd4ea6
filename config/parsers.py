"""The API's request parser (named in settings.REST_FRAMEWORK)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested deeper than the decoder can follow (a 2 KB
    array of arrays is enough) refused as a 400 like any other malformed JSON, rather
    than the decoder's RecursionError becoming a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from None
