"""ISO 4217 currency codes an organisation can keep its books in.

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
