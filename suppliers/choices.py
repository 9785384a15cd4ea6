"""Choices of the suppliers app, declared once and shared by models, API and UI."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# ISO 3166-1 alpha-2 and ISO 4217 codes (taken from pycountry 26.2.16). The database
# refuses anything else through check constraints built from these sets.
_ISO_3166_ALPHA2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL
    GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM
    JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_ISO_3166_ALPHA2.split())
_ISO_4217 = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD
    OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
    SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI
    UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD
    XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG
"""
CURRENCY_CODES = frozenset(_ISO_4217.split())

MAX_TIER = 10  # deepest supplier chain accepted (tier 1 = engaged by the buyer directly)


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    COMPLIANCE = "compliance", _("Compliance")
    AUDITOR = "auditor", _("Auditor")
    SUPPLIER = "supplier", _("Supplier user")


STAFF_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE, Role.AUDITOR})
WRITER_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE})


class SupplierStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("supplier status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("supplier status", "Suspended")
    TERMINATED = "terminated", pgettext_lazy("supplier status", "Terminated")


class ContactRole(models.TextChoices):
    PRIMARY = "primary", pgettext_lazy("contact role", "Primary")
    SECURITY = "security", pgettext_lazy("contact role", "Security")
    LEGAL = "legal", pgettext_lazy("contact role", "Legal")
    OTHER = "other", pgettext_lazy("contact role", "Other")


class NDAStatus(models.TextChoices):
    NOT_YET_EFFECTIVE = "not_yet_effective", pgettext_lazy("NDA status", "Not yet effective")
    ACTIVE = "active", pgettext_lazy("NDA status", "Active")
    EXPIRED = "expired", pgettext_lazy("NDA status", "Expired")
    TERMINATED = "terminated", pgettext_lazy("NDA status", "Terminated")


class Language(models.TextChoices):
    """The languages the product speaks (DESIGN section 11)."""

    ENGLISH = "en", pgettext_lazy("language name, in that language", "English")
    CHINESE_SIMPLIFIED = "zh-hans", pgettext_lazy("language name, in that language", "简体中文")


DEFAULT_TIME_ZONE = "Asia/Shanghai"


class Classification(models.TextChoices):
    INTERNAL = "internal", pgettext_lazy("classification", "Internal")
    CONFIDENTIAL = "confidential", pgettext_lazy("classification", "Confidential")
    SECRET = "secret", pgettext_lazy("classification", "Secret")
