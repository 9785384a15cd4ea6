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
@pytest.mark.parametrize("bad_id", ["abc", "1.5", "99999999999999999999999", "%C3%A9"])
def test_detail_with_a_non_id_is_404(admin_user, resource, bad_id):
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.get(f"/api/v1/{resource}/{bad_id}/")
    assert response.status_code == 404, (resource, bad_id, response.status_code, response.content)
