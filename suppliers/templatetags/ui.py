"""Template helpers of the browser UI: status badges that always carry text."""

from datetime import UTC

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext

from config.formats import format_instant, format_money
from suppliers.selectors import person_shown

register = template.Library()


@register.simple_tag
def badge(value, label=None):
    """<span class="badge badge-<value>">Label</span>; the label, not the colour, informs."""
    value = "" if value is None else str(value)
    text = label if label is not None else value.replace("_", " ").capitalize()
    return format_html('<span class="badge badge-{}">{}</span>', value, text)


@register.simple_tag(takes_context=True)
def person(context, user, default=None):
    """A person as the viewer may know them (suppliers.selectors.person_shown); no person
    is the system."""
    request = context.get("request")
    shown = person_shown(getattr(request, "user", None), user)
    return shown or (default if default is not None else pgettext("actor", "system"))


@register.simple_tag
def escalation_badge(level):
    return format_html(
        '<span class="badge badge-level-{}">{}</span>',
        level,
        gettext("Level %(level)s") % {"level": level},
    )


@register.simple_tag(takes_context=True)
def nav_current(context, prefix):
    """Marks the navigation link of the current section (aria-current, and a class)."""
    request = context.get("request")
    path = getattr(request, "path", "")
    current = path == "/" if prefix == "/" else path.startswith(prefix)
    return mark_safe('class="active" aria-current="page"') if current else ""


@register.inclusion_tag("includes/sort_header.html", takes_context=True)
def sort_header(context, key, label, css_class=""):
    """A column header that sorts the list by `key` (ui.sort_queryset), and says so."""
    sorting = context.get("sorting")
    state = sorting.header(key) if sorting is not None else None
    return {"state": state, "label": label, "css_class": css_class}


@register.filter
def instant(value):
    """An instant in the viewer's time zone, named: <time> with the UTC instant in its
    datetime attribute (config.formats.format_instant)."""
    if not value:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>',
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        format_instant(value),
    )


# The language a supplier's registered name is most likely written in, from its country,
# so that browsers pick the right CJK glyphs (the same character differs in Chinese,
# Japanese and Korean fonts). Elsewhere the name carries no lang of its own.
LOCAL_NAME_LANGUAGES = {
    "CN": "zh-Hans",
    "SG": "zh-Hans",
    "TW": "zh-Hant",
    "HK": "zh-Hant",
    "MO": "zh-Hant",
    "JP": "ja",
    "KR": "ko",
}


@register.simple_tag
def local_name(supplier):
    """ " · 北京模塑科技有限公司": the registered name in the supplier's own script, to put
    beside its name; nothing when it has none."""
    name = getattr(supplier, "local_name", "")
    if not name:
        return ""
    language = LOCAL_NAME_LANGUAGES.get(getattr(supplier, "country", ""), "")
    if language:
        return format_html(' · <span class="local-name" lang="{}">{}</span>', language, name)
    return format_html(' · <span class="local-name">{}</span>', name)


@register.filter
def money(amount, currency):
    """An amount in its currency, formatted for the active language (¥1,000,000.00)."""
    return format_money(amount, currency)
