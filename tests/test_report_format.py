"""The report's tables formatted for people (issue 16): headings, units, numbers.

Data: small inline tables written in the tests.
"""

from __future__ import annotations

import pandas as pd

from planner.outputs.report import PEOPLE, PERCENT, SIGNED, Report, percent, signed


def test_percent_keeps_small_shares_visible():
    assert percent(0.056) == "5.6 %" and percent(0.0012) == "0.12 %" and percent(0.00034) == "0.034 %"
    assert percent(0) == "0 %" and percent(float("nan")) == "" and percent(1.0) == "100.0 %"


def test_signed_changes():
    assert signed(9070093.0) == "+9,070,093" and signed(-56.4) == "-56" and signed(0.2) == "0" and signed(None) == ""


def test_table_labels_and_formats_in_html_and_markdown():
    df = pd.DataFrame({"name": ["Yanji"], "population": [1941700.0], "share_within_2h": [0.00123],
                       "x_delta_pop_within_2h": [0.0], "plain_col": [1.25]})
    rep = Report("t")
    rep.section("s").table(df, labels={"share_within_2h": "pairs within 2 h"},
                           formats={"population": PEOPLE, "share_within_2h": PERCENT, "x_delta_pop_within_2h": SIGNED})
    html = rep.html()
    assert "1,941,700" in html and "1,941,700.0" not in html and "0.12 %" in html
    assert "<th>pairs within 2 h</th>" in html and "<th>plain col</th>" in html  # underscores wrap as spaces
    assert "<div class='tw'><table>" in html  # a wide table scrolls inside its box, not the page
    md = rep.markdown()
    assert "| name | population | pairs within 2 h | x_delta_pop_within_2h | plain_col |" in md
    assert "|---|---:|---:|---:|---:|" in md and "| Yanji | 1,941,700 | 0.12 % | 0 | 1.2 |" in md


def test_formatted_cells_stay_numbers_in_a_table_of_text_only():
    """A table whose every column is text or formatted (no plain number column) still
    right-aligns the formatted cells (pandas turns a row of strings into a text Series, which
    lost the cells' kind when rows were iterated with iterrows)."""
    rep = Report("t")
    rep.section("s").table(pd.DataFrame({"name": ["a", "b"], "m": [1234.4, 5.0]}), formats={"m": "{:,.0f}"},
                           labels={"m": "length (m)"})
    html = rep.html()
    assert "<td class='num'>1,234</td>" in html and "<td class='num'>5</td>" in html
