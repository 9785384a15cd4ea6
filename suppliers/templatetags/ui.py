"""Template helpers of the browser UI: status badges that always carry text."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def badge(value, label=None):
    """<span class="badge badge-<value>">Label</span>; the label, not the colour, informs."""
    value = "" if value is None else str(value)
    text = label if label is not None else value.replace("_", " ").capitalize()
    return format_html('<span class="badge badge-{}">{}</span>', value, text)


@register.simple_tag
def escalation_badge(level):
    return format_html('<span class="badge badge-level-{}">Level {}</span>', level, level)
