"""ISO 4217 currency codes an organisation can keep its books in, and their minor units.

The active national and regional currencies of the ISO 4217 list (2024 edition, with the
Caribbean guilder XCG beside the Antillean guilder it replaces). Fund codes (BOV, CHE, CHW, CLF,
COU, MXV, USN, UYI, UYW), precious metals and testing codes (XAU, XTS, XXX, …) are left out:
nobody prices a deal in them.
"""

from __future__ import annotations

_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_4217_CODES: frozenset[str] = frozenset(_CODES.split())


def is_currency(code: str) -> bool:
    """Whether `code` (already upper-case) is a currency an organisation can use."""
    return code in ISO_4217_CODES


# ISO 4217 minor units that are not two decimals (every other code above has two)
_NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_NO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}


def minor_unit(code: str) -> int:
    """The number of decimals of a currency's minor unit (JPY 0, EUR 2, KWD 3)."""
    return MINOR_UNITS.get(code, 2)
