"""End to end, leak tracing (DESIGN section 10): through the API and a real Celery
worker on Redis. A master is uploaded, a disclosure made (its copy is made by the worker
after commit), the supplier user downloads its copy, the test JPEG-compresses, scales and
crops it, staff trace it, the worker matches it to that disclosure and the prime suspect
lands on the incident's timeline (for staff only); an unmarked image gives no_match.

The API calls run in one Django process (the test client, the whole stack from URL to
service and on-commit publishing) against a database FILE the worker process also opens;
see test_worker_e2e.py for the database and broker plumbing reused here."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid

import pytest

from tests.e2e.test_worker_e2e import BASE_DIR, _broker_url, _env, worker_database

pytestmark = pytest.mark.e2e

__all__ = ["worker_database"]  # the fixture, imported for this module's tests


def _django(code: str, env: dict[str, str], timeout: int):
    """Run `code` in a fresh Django process; it prints one JSON line as its answer."""
    script = "import json\nimport django\ndjango.setup()\n" + textwrap.dedent(code)
    # The script is this module's own constant text, not outside input.
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


FLOW = """
import io, time
import cv2, numpy as np
from datetime import date
from rest_framework.test import APIClient
from bench import tracing_images as images
from suppliers.choices import Role
from tests.factories import AssetFactory, IncidentFactory, NDAFactory, SupplierFactory, UserFactory

def wait(fetch, done, what, seconds=240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}: {value}")

def client(user):
    api = APIClient()
    api.force_authenticate(user)
    return api

def upload(name, data):
    handle = io.BytesIO(data)
    handle.name = name
    return handle

staff = UserFactory(username="e2e-compliance", role=Role.COMPLIANCE)
tier1 = SupplierFactory(name="E2E Molding")
supplier_user = UserFactory(username="e2e-supplier", role=Role.SUPPLIER, supplier=tier1)
nda = NDAFactory(supplier=tier1, effective_from=date(2024, 1, 1), signed_on=date(2024, 1, 1))
asset = AssetFactory(code="E2E-BUMPER")
others = [SupplierFactory(name=f"E2E Other {i}") for i in range(3)]
incident = IncidentFactory(source_supplier=tier1, responsible_supplier=tier1, nda=nda)
incident.assets.add(asset)
staff_api, supplier_api = client(staff), client(supplier_user)

master = images.make_image(1, height=600, width=900)
response = staff_api.post(
    f"/api/v1/assets/{asset.pk}/files/",
    {"file": upload("front.png", cv2.imencode(".png", master)[1].tobytes())},
    format="multipart",
)
assert response.status_code == 201, response.content
for other in others:
    made = staff_api.post("/api/v1/disclosures/", {
        "asset": asset.pk, "supplier": other.pk, "disclosed_on": "2024-11-04"}, format="json")
    assert made.status_code == 201, made.content
made = staff_api.post("/api/v1/disclosures/", {
    "asset": asset.pk, "supplier": tier1.pk, "nda": nda.pk, "disclosed_on": "2024-11-05"},
    format="json")
assert made.status_code == 201, made.content
disclosure = made.json()["id"]

copies = wait(
    lambda: supplier_api.get(f"/api/v1/disclosures/{disclosure}/copies/").json(),
    lambda rows: rows and rows[0]["status"] != "pending", "the copy")
assert copies[0]["status"] == "ready", copies
download = supplier_api.get(f"/api/v1/disclosures/{disclosure}/copies/{copies[0]['id']}/download/")
assert download.status_code == 200, download.content
copy_bytes = b"".join(download.streaming_content)
marked = cv2.imdecode(np.frombuffer(copy_bytes, np.uint8), cv2.IMREAD_COLOR)
rng = np.random.default_rng(5)
leak = images.jpeg(images.crop(images.rescale(marked, 0.6), 0.75, rng), 60)
unmarked = images.jpeg(images.crop(images.rescale(master, 0.6), 0.75, rng), 60)

def trace(data, **extra):
    started = staff_api.post("/api/v1/traces/", {"file": upload("leak.jpg", data), **extra},
                             format="multipart")
    assert started.status_code == 201, started.content
    assert started.json()["status"] == "pending"
    return wait(lambda: staff_api.get(f"/api/v1/traces/{started.json()['id']}/").json(),
                lambda body: body["status"] != "pending", "the trace")

leak_bytes = cv2.imencode(".jpg", leak, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
matched = trace(leak_bytes, incident=incident.pk)
foreign = trace(cv2.imencode(".jpg", unmarked)[1].tobytes())
staff_events = staff_api.get(f"/api/v1/incidents/{incident.pk}/events/").json()
supplier_events = supplier_api.get(f"/api/v1/incidents/{incident.pk}/events/").json()
rows = lambda body: body["results"] if isinstance(body, dict) else body
print(json.dumps({
    "disclosure": disclosure,
    "supplier": tier1.pk,
    "leak_shape": list(leak.shape),
    "matched": matched,
    "unmarked": foreign,
    "staff_events": [[e["kind"], e["message"]] for e in rows(staff_events)],
    "supplier_events": [[e["kind"], e["message"]] for e in rows(supplier_events)],
    "downloads": staff_api.get(f"/api/v1/disclosures/{disclosure}/downloads/").json(),
}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_leaked_copy_is_traced_to_its_recipient_through_the_api_and_a_worker(
    worker_database, tmp_path, monkeypatch
):
    import redis

    broker_url = _broker_url()
    connection = redis.Redis.from_url(broker_url, socket_connect_timeout=3)
    try:
        connection.ping()
    except redis.exceptions.RedisError as exc:
        import os

        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is required but unreachable at {broker_url}: {exc}")
        pytest.skip(f"Redis unreachable at {broker_url}: {exc}")
    queue = f"e2e-tracing-{uuid.uuid4().hex[:12]}"
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    env = _env(worker_database, broker_url, queue, tmp_path)
    log = tmp_path / "worker.log"
    with log.open("wb") as log_file:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                "--without-heartbeat", "--without-mingle", "--without-gossip",
                "--loglevel=INFO", "-Q", queue, "-n", f"{queue}@%h",
            ],
            cwd=BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        result = _django(FLOW, env, timeout=600)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        for key in connection.scan_iter(match=f"*{queue}*"):
            connection.delete(key)
        connection.close()
    matched = result["matched"]
    assert (matched["status"], matched["verdict"]) == ("done", "match"), (
        matched,
        log.read_text()[-3000:],
    )
    best = matched["matches"][0]
    assert best["disclosure"] == result["disclosure"]
    assert best["supplier"] == result["supplier"]
    assert best["bit_errors"] <= 26
    assert result["leak_shape"][1] < 600  # scaled and cropped from 600 wide
    assert (result["unmarked"]["status"], result["unmarked"]["verdict"]) == ("done", "no_match")
    suspects = [m for kind, m in result["staff_events"] if kind == "fingerprint"]
    assert len(suspects) == 1
    assert f"disclosure {result['disclosure']}" in suspects[0]
    assert "prime suspect" in suspects[0]
    assert all(kind != "fingerprint" for kind, _ in result["supplier_events"])
    assert [d["user"] for d in result["downloads"]] == ["e2e-supplier"]
    assert "ERROR" not in log.read_text(), log.read_text()[-4000:]
