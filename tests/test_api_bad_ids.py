"""Ids a client can type that are not ids (words, decimals, beyond bigint) are 404s on
every detail route, on SQLite and PostgreSQL alike, never a 500."""

import pytest
from rest_framework.test import APIClient

RESOURCES = [
    "suppliers", "contacts", "ndas", "assets", "disclosures", "incidents", "penalties",
    "rectification-plans", "rectification-actions", "reminders", "users",
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("bad_id", ["abc", "1.5", "99999999999999999999999", "%C3%A9", "+1"])
def test_detail_with_a_non_id_is_404(admin_user, resource, bad_id):
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.get(f"/api/v1/{resource}/{bad_id}/")
    assert response.status_code == 404, (resource, bad_id, response.status_code, response.content)
    assert "detail" in response.json(), response.content


FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))


@pytest.mark.django_db
@pytest.mark.parametrize("resource", RESOURCES)
def test_only_ascii_digits_name_an_object(admin_user, resource):
    """int() reads other scripts' digits as numbers: a full-width id resolved to the
    object with that number."""
    from io import StringIO
    from urllib.parse import quote

    from django.core.management import call_command

    call_command("load_demo", stdout=StringIO())
    client = APIClient()
    client.force_authenticate(admin_user)
    listed = client.get(f"/api/v1/{resource}/")
    assert listed.status_code == 200, listed.content
    pk = str(listed.json()["results"][0]["id"])
    assert client.get(f"/api/v1/{resource}/{pk}/").status_code == 200
    for digits in (FULL_WIDTH, ARABIC_INDIC):
        response = client.get(f"/api/v1/{resource}/{quote(pk.translate(digits))}/")
        assert response.status_code == 404, (resource, response.status_code, response.content)
        assert response.json() == {"detail": "Not found."}, response.content
