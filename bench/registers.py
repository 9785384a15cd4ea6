"""Register pages under load of data: queries per request and time per request of each
list (contacts, NDAs, assets, disclosures, users, suppliers) with a few rows and with
thousands, on a throw-away SQLite database (or DATABASE_URL's server, in a test
database). Prints one line per page. Not part of the test suite.

    DJANGO_SETTINGS_MODULE=config.settings_test python -m bench.registers [--rows 3000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    # As Django's test runner does: the connection (and its query log) outlives a request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        _run(args, Client, connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _seed(rows: int, start: int) -> None:
    from datetime import date
    from decimal import Decimal

    from suppliers.models import NDA, ConfidentialAsset, Contact, Disclosure, Supplier, User

    parent = Supplier.objects.get(name="Bench tier 1")
    suppliers = Supplier.objects.bulk_create(
        Supplier(name=f"Bench vendor {start + i}", country="CN", parent=parent, tier=2)
        for i in range(rows)
    )
    Contact.objects.bulk_create(
        Contact(supplier=s, name=f"Person {s.pk}", email=f"p{s.pk}@bench.example")
        for s in suppliers
    )
    ndas = NDA.objects.bulk_create(
        NDA(
            reference=f"NDA-BENCH-{s.pk}",
            supplier=s,
            signed_on=date(2024, 1, 1),
            effective_from=date(2024, 1, 1),
            penalty_amount=Decimal("1000.00"),
        )
        for s in suppliers
    )
    assets = ConfidentialAsset.objects.bulk_create(
        ConfidentialAsset(code=f"BENCH-{start + i}", name=f"Asset {i}") for i in range(rows)
    )
    Disclosure.objects.bulk_create(
        Disclosure(asset=a, supplier=s, nda=n, disclosed_on=date(2024, 6, 1))
        for a, s, n in zip(assets, suppliers, ndas, strict=True)
    )
    User.objects.bulk_create(
        User(username=f"bench-{s.pk}", role="supplier", supplier=s, password="!")  # noqa: S106
        for s in suppliers
    )


def _run(args, Client, connection) -> None:
    from suppliers.models import Supplier, User

    Supplier.objects.create(name="Bench tier 1", country="CN")
    staff = User.objects.create(username="bench-compliance", role="compliance")
    client = Client()
    client.force_login(staff)
    pages = ["/suppliers/", "/contacts/", "/ndas/", "/assets/", "/disclosures/", "/users/"]
    results: dict[str, list] = {page: [] for page in pages}
    seeded = 0
    for total in (5, args.rows):
        _seed(total - seeded, seeded)
        seeded = total
        for page in pages:
            client.get(page)  # warm
            statements: list[str] = []

            def count(execute, sql, params, many, context, statements=statements):
                statements.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                status = client.get(page).status_code
            if status != 200:
                raise SystemExit(f"{page} answered {status}")
            timings = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                client.get(page)
                timings.append((time.perf_counter() - began) * 1000)
            results[page].append((total, len(statements), statistics.median(timings)))
    print(f"{'page':<16}{'rows':>8}{'queries':>9}{'median ms':>11}")
    for page, rows in results.items():
        for total, queries, median in rows:
            print(f"{page:<16}{total:>8}{queries:>9}{median:>11.1f}")


if __name__ == "__main__":
    main()
