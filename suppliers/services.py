"""State changes of the suppliers app: suppliers and their tree, contacts, NDAs, assets,
disclosures and user accounts. Each function checks the actor's right, validates,
and writes in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from config.exceptions import Conflict
from config.queueing import publish_task

from .choices import MAX_TIER, Role
from .models import NDA, ConfidentialAsset, Contact, Disclosure, Supplier, User


def require_writer(actor: User) -> None:
    """Only admins and compliance staff create and change the buyer's records."""
    if actor is None or not actor.can_write:
        raise PermissionDenied("Only compliance staff may do this.")


def require_admin(actor: User) -> None:
    if actor is None or not actor.is_active or actor.role != Role.ADMIN:
        raise PermissionDenied("Only administrators may do this.")


def save_checked(instance, *, exclude: list[str] | None = None) -> None:
    """full_clean (including database constraints) then save. A race that slips past
    validation (two people creating the same reference at once) still hits the
    constraint and is a conflict (409), told in words, never in the database's."""
    instance.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise Conflict(
            f"This {instance._meta.verbose_name} conflicts with a record saved at the same "
            "time (the same reference or name, or a rule on the data). Reload and try again."
        ) from None


def _apply(instance, fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    for name, value in fields.items():
        setattr(instance, name, value)


# --- Suppliers -------------------------------------------------------------------------

SUPPLIER_FIELDS = {"name", "country", "parent", "status"}


def _check_parent(supplier: Supplier, parent: Supplier | None) -> int:
    """The tier the supplier would have under `parent`; refuses a cycle or a chain deeper
    than MAX_TIER (the database refuses both as well)."""
    if parent is None:
        return 1
    node: Supplier | None = parent
    depth = 1
    while node is not None:
        if supplier.pk is not None and node.pk == supplier.pk:
            raise ValidationError({"parent": "This parent would make the supplier chain loop."})
        depth += 1
        node = node.parent
    if depth > MAX_TIER:
        raise ValidationError({"parent": f"Supplier chains are at most {MAX_TIER} deep."})
    return depth


def supplier_parent_tier(supplier: Supplier, parent: Supplier | None) -> int:
    """The tier `supplier` would have under `parent`; ValidationError on a loop or a chain
    deeper than MAX_TIER. For forms that want the service's rule before saving."""
    return _check_parent(supplier, parent)


def _retier_subtree(supplier: Supplier) -> None:
    frontier = [supplier]
    while frontier:
        parent_tiers = {node.pk: node.tier for node in frontier}
        children = list(Supplier.objects.filter(parent__in=frontier))
        for child in children:
            tier = parent_tiers[child.parent_id] + 1
            if tier > MAX_TIER:
                raise ValidationError({"parent": f"Supplier chains are at most {MAX_TIER} deep."})
            if child.tier != tier:
                Supplier.objects.filter(pk=child.pk).update(tier=tier)
            child.tier = tier
        frontier = children


@transaction.atomic
def supplier_create(
    *,
    actor: User,
    name: str,
    country: str,
    parent: Supplier | None = None,
    status: str | None = None,
) -> Supplier:
    """Register a supplier, tier 1 or under the supplier that engaged it."""
    require_writer(actor)
    supplier = Supplier(name=name.strip(), country=(country or "").upper(), parent=parent)
    if status:
        supplier.status = status
    supplier.tier = _check_parent(supplier, parent)
    save_checked(supplier)
    return supplier


@transaction.atomic
def supplier_update(*, actor: User, supplier: Supplier, **fields: Any) -> Supplier:
    """Change a supplier; moving it under another parent re-tiers its whole subtree."""
    require_writer(actor)
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    if fields.get("country"):
        fields["country"] = fields["country"].upper()
    if fields.get("name"):
        fields["name"] = fields["name"].strip()
    _apply(supplier, fields, SUPPLIER_FIELDS)
    old_tier = supplier.tier
    supplier.tier = _check_parent(supplier, supplier.parent)
    save_checked(supplier)
    if supplier.tier != old_tier:
        _retier_subtree(supplier)
    return supplier


@transaction.atomic
def supplier_delete(*, actor: User, supplier: Supplier) -> None:
    """Delete a supplier that has no history; one with any refuses (409)."""
    require_writer(actor)
    try:
        # Everything that is history (sub-vendors, NDAs, disclosures, users, incidents,
        # penalties, plans) holds the supplier by a protected key.
        with transaction.atomic():
            supplier.delete()
    except ProtectedError:
        raise Conflict(
            "This supplier has sub-vendors, NDAs, disclosures, users or incidents; "
            "set its status to terminated instead of deleting it.",
            code="has_history",
        ) from None


# --- Contacts --------------------------------------------------------------------------

CONTACT_FIELDS = {"supplier", "name", "email", "role", "receives_reminders"}


@transaction.atomic
def contact_create(
    *,
    actor: User,
    supplier: Supplier,
    name: str,
    email: str,
    role: str = "other",
    receives_reminders: bool = False,
) -> Contact:
    require_writer(actor)
    contact = Contact(
        supplier=supplier, name=name, email=email, role=role, receives_reminders=receives_reminders
    )
    save_checked(contact)
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, **fields: Any) -> Contact:
    require_writer(actor)
    _apply(contact, fields, CONTACT_FIELDS)
    save_checked(contact)
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    require_writer(actor)
    contact.delete()


# --- NDAs ------------------------------------------------------------------------------

NDA_FIELDS = {
    "reference",
    "supplier",
    "signed_on",
    "effective_from",
    "expires_on",
    "covers_subvendors",
    "flow_down_required",
    "penalty_amount",
    "penalty_currency",
    "rectification_days",
}


@transaction.atomic
def nda_create(
    *,
    actor: User,
    reference: str,
    supplier: Supplier,
    signed_on: date,
    effective_from: date,
    penalty_amount: Decimal,
    penalty_currency: str = "CNY",
    expires_on: date | None = None,
    covers_subvendors: bool = False,
    flow_down_required: bool = False,
    rectification_days: int = 30,
) -> NDA:
    """Record a signed confidentiality agreement and its penalty clause."""
    require_writer(actor)
    nda = NDA(
        reference=reference.strip(),
        supplier=supplier,
        signed_on=signed_on,
        effective_from=effective_from,
        expires_on=expires_on,
        covers_subvendors=covers_subvendors,
        flow_down_required=flow_down_required,
        penalty_amount=penalty_amount,
        penalty_currency=(penalty_currency or "").upper(),
        rectification_days=rectification_days,
    )
    save_checked(nda)
    return nda


@transaction.atomic
def nda_update(*, actor: User, nda: NDA, **fields: Any) -> NDA:
    require_writer(actor)
    nda = NDA.objects.select_for_update().get(pk=nda.pk)
    if fields.get("penalty_currency"):
        fields["penalty_currency"] = fields["penalty_currency"].upper()
    _apply(nda, fields, NDA_FIELDS)
    save_checked(nda)
    return nda


@transaction.atomic
def nda_delete(*, actor: User, nda: NDA) -> None:
    require_writer(actor)
    if nda.disclosures.exists() or nda.incidents.exists():
        raise Conflict(
            "This NDA has disclosures or incidents and cannot be deleted.", code="has_history"
        )
    nda.delete()


# --- Assets and disclosures ------------------------------------------------------------

ASSET_FIELDS = {"code", "name", "project", "classification"}


@transaction.atomic
def asset_create(
    *, actor: User, code: str, name: str, project: str = "", classification: str = "confidential"
) -> ConfidentialAsset:
    require_writer(actor)
    asset = ConfidentialAsset(
        code=code.strip().upper(), name=name, project=project, classification=classification
    )
    save_checked(asset)
    return asset


@transaction.atomic
def asset_update(*, actor: User, asset: ConfidentialAsset, **fields: Any) -> ConfidentialAsset:
    require_writer(actor)
    if fields.get("code"):
        fields["code"] = fields["code"].strip().upper()
    _apply(asset, fields, ASSET_FIELDS)
    save_checked(asset)
    return asset


@transaction.atomic
def asset_delete(*, actor: User, asset: ConfidentialAsset) -> None:
    require_writer(actor)
    if asset.disclosures.exists() or asset.incidents.exists():
        raise Conflict(
            "This asset has disclosures or incidents and cannot be deleted.", code="has_history"
        )
    asset.delete()


def _check_disclosure_nda(supplier: Supplier, nda: NDA | None) -> None:
    if nda is None:
        return
    chain_ids = {supplier.pk, *(s.pk for s in supplier.ancestors())}
    if nda.supplier_id not in chain_ids:
        raise ValidationError(
            {"nda": "The NDA must be the recipient's own or one of its parents'."}
        )


@transaction.atomic
def disclosure_create(
    *,
    actor: User,
    asset: ConfidentialAsset,
    supplier: Supplier,
    disclosed_on: date,
    nda: NDA | None = None,
    version: str = "",
) -> Disclosure:
    """Record that `asset` went to `supplier`; a fresh fingerprint is generated to be
    embedded as a watermark in the copy handed over."""
    require_writer(actor)
    _check_disclosure_nda(supplier, nda)
    disclosure = Disclosure(
        asset=asset, supplier=supplier, nda=nda, disclosed_on=disclosed_on, version=version
    )
    save_checked(disclosure)
    # The recipient's marked copies of the asset's master files (the tracing app, above
    # this one, queued by task name).
    transaction.on_commit(
        lambda: publish_task("tracing.tasks.queue_disclosure_copies", args=[disclosure.pk]),
        robust=True,  # a broker that is down must not undo or fail the disclosure
    )
    return disclosure


@transaction.atomic
def disclosure_update(*, actor: User, disclosure: Disclosure, **fields: Any) -> Disclosure:
    require_writer(actor)
    _apply(disclosure, fields, {"asset", "supplier", "nda", "disclosed_on", "version"})
    _check_disclosure_nda(disclosure.supplier, disclosure.nda)
    save_checked(disclosure)
    return disclosure


# --- Users -----------------------------------------------------------------------------

USER_FIELDS = {"username", "email", "first_name", "last_name", "role", "supplier", "is_active"}


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    supplier: Supplier | None = None,
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a staff or supplier-user account (admins only; `actor=None` for commands)."""
    if actor is not None:
        require_admin(actor)
    user = User(
        username=username,
        email=email,
        role=role,
        supplier=supplier,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        from django.contrib.auth.password_validation import validate_password

        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    save_checked(user, exclude=["password"])
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, password: str | None = None, **fields: Any) -> User:
    """Change an account; deactivating it ends its sessions and revokes its tokens."""
    require_admin(actor)
    user = User.objects.select_for_update().get(pk=user.pk)
    was_active = user.is_active
    _apply(user, fields, USER_FIELDS)
    if "role" in fields:
        user.is_staff = user.is_superuser = user.role == Role.ADMIN
    if password:
        from django.contrib.auth.password_validation import validate_password

        validate_password(password, user)
        user.set_password(password)
    save_checked(user, exclude=["password"])
    if was_active and not user.is_active:
        user_end_sessions(user=user)
    return user


def user_end_sessions(*, user: User) -> None:
    """Revoke the user's API tokens and delete its browser sessions."""
    from .tokens import revoke_user_tokens

    revoke_user_tokens(user)
    key = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == key:
            session.delete()


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    return user_update(actor=actor, user=user, is_active=False)


def compliance_managers_group() -> Group:
    from django.conf import settings

    group, _ = Group.objects.get_or_create(name=settings.COMPLIANCE_MANAGERS_GROUP)
    return group
