"""CSV exports neutralise formulas (issue 9: `sales/effectiveness.csv` exported a rep's display
name `=HYPERLINK(...)` as it was)."""

from __future__ import annotations

import io

import pytest

from vinculo.core.csv_export import SafeCsvWriter, safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-20.00", "-20.00"),  # a plain number stays a number
        ("+7", "+7"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        (12, 12),
        (None, None),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_written_as_text(value, written):
    assert safe_cell(value) == written


def test_the_writer_neutralises_every_cell_of_a_row():
    stream = io.StringIO()
    SafeCsvWriter(stream).writerow(["=1+1", "Ana", -3, "-3"])
    assert stream.getvalue() == "'=1+1,Ana,-3,-3\r\n"
