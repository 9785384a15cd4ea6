"""State changes of the suppliers app: suppliers and their tree, contacts, NDAs, assets,
disclosures and user accounts. Each function checks the actor's right, validates,
and writes in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from config.exceptions import Conflict
from config.queueing import publish_task
from config.uploads import check_upload

from .choices import DEFAULT_TIME_ZONE, MAX_TIER, Language, Role
from .models import NDA, ConfidentialAsset, Contact, Disclosure, Supplier, User


def require_writer(actor: User) -> None:
    """Only admins and compliance staff create and change the buyer's records."""
    if actor is None or not actor.can_write:
        raise PermissionDenied(_("Only compliance staff may do this."))


def require_admin(actor: User) -> None:
    if actor is None or not actor.is_active or actor.role != Role.ADMIN:
        raise PermissionDenied(_("Only administrators may do this."))


def save_checked(
    instance, *, exclude: list[str] | None = None, constraints_by_database: bool = False
) -> None:
    """full_clean (including database constraints) then save. A race that slips past
    validation (two people creating the same reference at once) still hits the
    constraint and is a conflict (409), told in words, never in the database's.

    `constraints_by_database` (bulk imports): the model's constraints are left to the
    database, which holds the same ones, instead of one query each before the save
    (Django validates each in Python and SQL: most of a row's time in a 20,000-row
    import); a violated one is the same ValidationError, with its own message."""
    instance.full_clean(exclude=exclude, validate_constraints=not constraints_by_database)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        if constraints_by_database:
            for constraint in instance._meta.constraints:
                if constraint.name in str(exc):
                    raise ValidationError(constraint.get_violation_error_message()) from None
        raise Conflict(
            _(
                "This %(record)s conflicts with a record saved at the same time (the same "
                "reference or name, or a rule on the data). Reload and try again."
            )
            % {"record": instance._meta.verbose_name}
        ) from None


def _apply(instance, fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    for name, value in fields.items():
        setattr(instance, name, value)


# --- Suppliers -------------------------------------------------------------------------

SUPPLIER_FIELDS = {"name", "local_name", "country", "parent", "status"}


def _check_parent(supplier: Supplier, parent: Supplier | None) -> int:
    """The tier the supplier would have under `parent`; refuses a cycle or a chain deeper
    than MAX_TIER (the database refuses both as well)."""
    if parent is None:
        return 1
    node: Supplier | None = parent
    depth = 1
    while node is not None:
        if supplier.pk is not None and node.pk == supplier.pk:
            raise ValidationError({"parent": _("This parent would make the supplier chain loop.")})
        depth += 1
        node = node.parent
    if depth > MAX_TIER:
        raise ValidationError({"parent": _chain_too_deep()})
    return depth


def _chain_too_deep() -> str:
    return _("Supplier chains are at most %(depth)s deep.") % {"depth": MAX_TIER}


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
                raise ValidationError({"parent": _chain_too_deep()})
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
    local_name: str = "",
    constraints_by_database: bool = False,
) -> Supplier:
    """Register a supplier, tier 1 or under the supplier that engaged it.
    `constraints_by_database`: see save_checked (imports)."""
    require_writer(actor)
    supplier = Supplier(
        name=name.strip(),
        local_name=(local_name or "").strip(),
        country=(country or "").upper(),
        parent=parent,
    )
    if status:
        supplier.status = status
    supplier.tier = _check_parent(supplier, parent)
    save_checked(supplier, constraints_by_database=constraints_by_database)
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
            _(
                "This supplier has sub-vendors, NDAs, disclosures, users or incidents; "
                "set its status to terminated instead of deleting it."
            ),
            code="has_history",
        ) from None


# --- Contacts --------------------------------------------------------------------------

CONTACT_FIELDS = {
    "supplier",
    "name",
    "email",
    "role",
    "receives_reminders",
    "language",
    "time_zone",
}


@transaction.atomic
def contact_create(
    *,
    actor: User,
    supplier: Supplier,
    name: str,
    email: str,
    role: str = "other",
    receives_reminders: bool = False,
    language: str = Language.ENGLISH,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> Contact:
    """A person at `supplier`; with `receives_reminders` it is chased when the supplier's
    plans, actions or payments run late, in its language and time zone."""
    require_writer(actor)
    contact = Contact(
        supplier=supplier,
        name=name.strip(),
        email=email.strip(),
        role=role,
        receives_reminders=receives_reminders,
        language=language,
        time_zone=time_zone,
    )
    save_checked(contact)
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, **fields: Any) -> Contact:
    """Change a contact (name, email, role, whether it receives reminders, its supplier)."""
    require_writer(actor)
    if isinstance(fields.get("email"), str):
        fields["email"] = fields["email"].strip()
    _apply(contact, fields, CONTACT_FIELDS)
    save_checked(contact)
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    """Remove a contact: reminders sent to it stay in the reminder log by address."""
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
    "clause_text",
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
    clause_text: str = "",
    signed_document: UploadedFile | None = None,
) -> NDA:
    """Record a signed confidentiality agreement, its penalty clause and, optionally, the
    signed document (checked as incident evidence is)."""
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
        clause_text=clause_text,
    )
    if signed_document is not None:
        _store_signed_document(nda, signed_document)
    save_checked(nda)
    return nda


def _store_signed_document(nda: NDA, upload: UploadedFile) -> None:
    checked = check_upload(upload, max_bytes=settings.EVIDENCE_MAX_BYTES, field="signed_document")
    nda.signed_document.save("signed-nda", upload, save=False)
    nda.signed_document_name = checked.original_name
    nda.signed_document_type = checked.content_type
    nda.signed_document_size = checked.size
    nda.signed_document_sha256 = checked.sha256


@transaction.atomic
def nda_update(
    *,
    actor: User,
    nda: NDA,
    signed_document: UploadedFile | None = None,
    **fields: Any,
) -> NDA:
    """Change an NDA's terms or clause text, or replace its signed document (the earlier
    version stays in the NDA's history). A terminated NDA keeps its terms."""
    require_writer(actor)
    nda = NDA.objects.select_for_update().get(pk=nda.pk)
    if nda.terminated_on is not None and (fields or signed_document is not None):
        changed = {k for k, v in fields.items() if getattr(nda, k, None) != v}
        if changed or signed_document is not None:
            raise Conflict(
                _("This NDA was terminated on %(day)s; its terms are no longer changed.")
                % {"day": nda.terminated_on.isoformat()},
                code="terminated",
            )
    if fields.get("penalty_currency"):
        fields["penalty_currency"] = fields["penalty_currency"].upper()
    _apply(nda, fields, NDA_FIELDS)
    if signed_document is not None:
        _store_signed_document(nda, signed_document)
    save_checked(nda)
    return nda


@transaction.atomic
def nda_terminate(*, actor: User, nda: NDA, terminated_on: date, reason: str) -> NDA:
    """End an NDA early: from `terminated_on` it binds nobody (the liability rule and the
    coverage report stop counting it from that day). Needs a reason; never before the
    NDA took effect, never once it has expired, never twice."""
    require_writer(actor)
    nda = NDA.objects.select_for_update().get(pk=nda.pk)
    reason = (reason or "").strip()
    if nda.terminated_on is not None:
        raise Conflict(
            _("This NDA was already terminated on %(day)s.")
            % {"day": nda.terminated_on.isoformat()},
            code="terminated",
        )
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = _("Say why the NDA is terminated.")
    if terminated_on is None:
        errors["terminated_on"] = _("Give the day the NDA ends.")
    elif terminated_on < nda.effective_from:
        errors["terminated_on"] = _(
            "The NDA took effect on %(day)s; it cannot end before that."
        ) % {"day": nda.effective_from.isoformat()}
    elif nda.expires_on is not None and terminated_on >= nda.expires_on:
        errors["terminated_on"] = _(
            "The NDA expires on %(day)s anyway; a termination must come before that."
        ) % {"day": nda.expires_on.isoformat()}
    if errors:
        raise ValidationError(errors)
    nda.terminated_on = terminated_on
    nda.termination_reason = reason
    nda._change_reason = reason[:100]
    save_checked(nda)
    return nda


@transaction.atomic
def nda_delete(*, actor: User, nda: NDA) -> None:
    require_writer(actor)
    if nda.disclosures.exists() or nda.incidents.exists():
        raise Conflict(
            _("This NDA has disclosures or incidents and cannot be deleted."), code="has_history"
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
            _("This asset has disclosures or incidents and cannot be deleted."),
            code="has_history",
        )
    asset.delete()


def _check_disclosure_nda(supplier: Supplier, nda: NDA | None, disclosed_on: date) -> None:
    """The NDA named must reach the recipient (its own or a parent's) and be in force on
    the day of the hand-over. A hand-over before the NDA took effect is refused rather
    than recorded: what it disclosed was not covered by that agreement, so the record
    would claim a protection that did not exist (record it without an NDA, and it is
    listed as a coverage gap)."""
    if nda is None:
        return
    chain_ids = {supplier.pk, *(s.pk for s in supplier.ancestors())}
    if nda.supplier_id not in chain_ids:
        raise ValidationError(
            {"nda": _("The NDA must be the recipient's own or one of its parents'.")}
        )
    if disclosed_on is not None and disclosed_on < nda.effective_from:
        raise ValidationError(
            {
                "disclosed_on": _(
                    "%(reference)s took effect on %(effective)s, after this disclosure "
                    "(%(day)s): it did not cover it. Record the disclosure without an NDA "
                    "(it will show as a coverage gap) or correct the date."
                )
                % {
                    "reference": nda.reference,
                    "effective": nda.effective_from.isoformat(),
                    "day": disclosed_on.isoformat(),
                }
            }
        )
    if nda.terminated_on is not None and disclosed_on is not None:  # noqa: SIM102
        if disclosed_on >= nda.terminated_on:
            raise ValidationError(
                {
                    "nda": _(
                        "%(reference)s was terminated on %(day)s; it does not cover a "
                        "disclosure made after that."
                    )
                    % {"reference": nda.reference, "day": nda.terminated_on.isoformat()}
                }
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
    _check_disclosure_nda(supplier, nda, disclosed_on)
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


DISCLOSURE_FIELDS = {"asset", "supplier", "nda", "disclosed_on", "version"}


@transaction.atomic
def disclosure_update(
    *, actor: User, disclosure: Disclosure, reason: str = "", **fields: Any
) -> Disclosure:
    """Correct a disclosure (asset, recipient, NDA, date, version). The fingerprint never
    changes. Each correction is kept on the disclosure's history with `reason`; a
    revoked disclosure is not corrected."""
    require_writer(actor)
    disclosure = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
    if disclosure.revoked_at is not None:
        raise Conflict(_("This disclosure was revoked; it is no longer corrected."), code="revoked")
    _apply(disclosure, fields, DISCLOSURE_FIELDS)
    _check_disclosure_nda(disclosure.supplier, disclosure.nda, disclosure.disclosed_on)
    disclosure._change_reason = (reason or "").strip()[:100] or None
    save_checked(disclosure)
    return disclosure


@transaction.atomic
def disclosure_revoke(*, actor: User, disclosure: Disclosure, reason: str) -> Disclosure:
    """Mark a disclosure revoked (recorded in error, or the copy was taken back), with who
    and why. It stays listed, marked, with its history: nothing is deleted."""
    require_writer(actor)
    disclosure = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
    reason = (reason or "").strip()
    if disclosure.revoked_at is not None:
        raise Conflict(_("This disclosure was already revoked."), code="revoked")
    if not reason:
        raise ValidationError({"reason": _("Say why the disclosure is revoked.")})
    disclosure.revoked_at = timezone.now()
    disclosure.revoked_by = actor
    disclosure.revocation_reason = reason
    disclosure._change_reason = reason[:100]
    save_checked(disclosure)
    return disclosure


# --- Users -----------------------------------------------------------------------------

USER_FIELDS = {
    "username",
    "email",
    "first_name",
    "last_name",
    "role",
    "supplier",
    "is_active",
    "language",
    "time_zone",
}


def require_account_manager(actor: User, *, role: str) -> None:
    """Admins manage every account; compliance staff manage supplier users' accounts
    (the people at the suppliers they deal with), never staff accounts."""
    if actor is None or not actor.is_active:
        raise PermissionDenied(_("Only administrators may do this."))
    if actor.role == Role.ADMIN:
        return
    if actor.role == Role.COMPLIANCE and role == Role.SUPPLIER:
        return
    if actor.role == Role.COMPLIANCE:
        raise PermissionDenied(
            _(
                "Compliance staff manage supplier users' accounts; staff accounts are the "
                "administrators'."
            )
        )
    raise PermissionDenied(_("Only administrators and compliance staff manage accounts."))


def language_from_header(accept_language: str | None) -> str:
    """The product language that best fits a browser's Accept-Language, else English."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _quality in parse_accept_lang_header(accept_language or ""):
        code = code.lower()
        if code.startswith("zh"):
            # Traditional Chinese readers (Taiwan, Hong Kong, Macau) get English rather
            # than a script they did not ask for.
            if code in ("zh-tw", "zh-hk", "zh-mo", "zh-hant") or code.startswith("zh-hant"):
                continue
            return Language.CHINESE_SIMPLIFIED
        if code.startswith("en"):
            return Language.ENGLISH
    return Language.ENGLISH


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
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    """Create a staff or supplier-user account (admins any; compliance supplier users;
    `actor=None` for commands)."""
    if actor is not None:
        require_account_manager(actor, role=role)
    user = User(
        username=username,
        email=email,
        role=role,
        supplier=supplier,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
        language=language or Language.ENGLISH,
        time_zone=time_zone or DEFAULT_TIME_ZONE,
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
    """Change an account; deactivating it ends its sessions and revokes its tokens.
    Admins change any account, compliance staff supplier users' (which stay so)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    require_account_manager(actor, role=user.role)
    if "role" in fields:
        require_account_manager(actor, role=fields["role"])
    if actor.pk == user.pk and fields.get("is_active") is False:
        raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
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


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (sessions and tokens end at once) or reactivate an account."""
    return user_update(actor=actor, user=user, is_active=active)


@transaction.atomic
def user_update_settings(*, actor: User, user: User, language: str, time_zone: str) -> User:
    """A person's own preferences: the language it reads and the time zone it lives in."""
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied(_("People change their own settings only."))
    user = User.objects.select_for_update().get(pk=user.pk)
    user.language = language
    user.time_zone = (time_zone or "").strip()
    save_checked(user, exclude=["password"])
    return user


def user_take_first_language(*, user: User, language: str | None) -> None:
    """An invited person choosing its first password (it has never signed in and has no
    usable password yet) reads the product from then on in the language its browser
    asked for (`language`: the request's, LocaleMiddleware's choice); the inviter's guess
    is replaced. Anyone who has signed in before keeps the language it has."""
    if user.last_login is not None or user.has_usable_password():
        return
    language = language_from_header(language)
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language


def user_keep_switched_language(*, user: User, language: str | None) -> None:
    """At sign-in: a language chosen with the switch (its cookie: the sign-in page's
    switch, or the person's last choice in this browser) becomes the person's language,
    which pages, mail and documents then follow. Without a choice nothing changes."""
    if language in Language.values and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language


INVITATION = "invitation"
PASSWORD_RESET = "password_reset"  # noqa: S105 (a mail kind)
_ACCOUNT_MAIL = {
    INVITATION: (
        "registration/invitation_subject.txt",
        "registration/invitation_email.txt",
    ),
    PASSWORD_RESET: (
        "registration/password_reset_subject.txt",
        "registration/password_reset_email.txt",
    ),
}


def _send_set_password_mail(user: User, kind: str, *, invited_by: User | None) -> None:
    """Mail `user` a one-time link to set its password (Django's token generator, so the
    link dies once used, when the password changes or after PASSWORD_RESET_TIMEOUT).
    Sent after commit, through PasswordResetForm's mailer."""
    if not user.email:
        raise ValidationError({"email": _("This account has no email address to send a link to.")})
    subject_template, body_template = _ACCOUNT_MAIL[kind]
    protocol, _sep, domain = settings.SITE_URL.partition("://")
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": _("Breach tracker"),
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": protocol or "https",
        "invited_by": invited_by,
        "supplier": user.supplier,
    }

    def send() -> None:
        from .forms import PasswordLinkForm  # the mail in the person's language and zone

        PasswordLinkForm().send_mail(
            subject_template, body_template, context, settings.DEFAULT_FROM_EMAIL, user.email
        )

    transaction.on_commit(send)


@transaction.atomic
def user_invite(
    *,
    actor: User,
    username: str,
    email: str,
    role: str = Role.SUPPLIER,
    supplier: Supplier | None = None,
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    """Create an account without a password and mail its owner a link to set one."""
    if not (email or "").strip():
        raise ValidationError({"email": _("An invitation needs an email address.")})
    user = user_create(
        actor=actor,
        username=username,
        password=None,
        role=role,
        email=email.strip(),
        supplier=supplier,
        first_name=first_name,
        last_name=last_name,
        language=language,
        time_zone=time_zone,
    )
    _send_set_password_mail(user, INVITATION, invited_by=actor)
    return user


@transaction.atomic
def user_send_password_reset(*, actor: User, user: User) -> None:
    """Staff send a person a link to choose a new password (the old one keeps working
    until then). An inactive account gets none: reactivate it first."""
    require_account_manager(actor, role=user.role)
    if not user.is_active:
        raise ValidationError(
            {"is_active": _("This account is deactivated; reactivate it before a reset.")}
        )
    _send_set_password_mail(user, PASSWORD_RESET, invited_by=actor)


def compliance_managers_group() -> Group:
    from django.conf import settings

    group, _ = Group.objects.get_or_create(name=settings.COMPLIANCE_MANAGERS_GROUP)
    return group
