"""Subject normalisation, the fallback of threading when the headers do not tell (the header and
subject rules against real mail are in test_mail_in.py)."""

from __future__ import annotations

import pytest

from vinculo.touchpoints.services.mail_out import reply_subject
from vinculo.touchpoints.services.threading import normalize_subject


@pytest.mark.parametrize(
    ("subject", "normalized"),
    [
        ("Pedido 42", "pedido 42"),
        ("Re: Pedido 42", "pedido 42"),
        ("RE: RE: Fwd: Pedido 42", "pedido 42"),
        ("Fw: pedido   42 ", "pedido 42"),
        ("RV: Pedido 42", "pedido 42"),
        ("AW: WG: Pedido 42", "pedido 42"),
        ("Re[2]: Pedido 42", "pedido 42"),
        ("Re(3): Pedido 42", "pedido 42"),
        ("SV: VS: Antw: TR: ENC: RES: Pedido 42", "pedido 42"),
        ("Re：Pedido 42", "pedido 42"),
        ("Research: results", "research: results"),  # a word starting like a prefix is kept
        ("Reunión del lunes", "reunión del lunes"),
        ("Re:", ""),
        ("", ""),
    ],
)
def test_reply_and_forward_prefixes_are_removed(subject, normalized):
    assert normalize_subject(subject) == normalized


def test_a_reply_subject_gets_one_re_prefix():
    assert reply_subject("Pedido 42") == "Re: Pedido 42"
    assert reply_subject("RE: Pedido 42") == "RE: Pedido 42"
    assert reply_subject("AW: Pedido 42") == "AW: Pedido 42"
