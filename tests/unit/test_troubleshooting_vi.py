"""docs/troubleshooting.vi.md: its headings are the Vietnamese messages students see, one for
every English heading that is a message of the GPU check, and the printed link finds them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labkit import diagnose, diagnose_common, diagnose_nvidia, diagnose_rocm, entrypoint, i18n, pipguard
from labkit.verdicts import slug

DOCS = Path(__file__).resolve().parents[2] / "docs"


def headings(page: str) -> list[str]:
    return re.findall(r"^## (.+)$", (DOCS / page).read_text(), re.MULTILINE)


def vietnamese(text: str) -> str:
    return i18n.translations("vi").gettext(text)


HEADLINES = [*diagnose_rocm.HEADLINES, *diagnose_nvidia.HEADLINES, *diagnose_common.HEADLINES]
# The generic verdicts' headlines: the English page's headings that the catalogue translates.
TRANSLATED = [heading for heading in headings("troubleshooting.md") if vietnamese(heading) != heading]


def test_every_vendor_headline_is_translated_and_on_the_english_page():
    english = set(headings("troubleshooting.md"))
    for headline in HEADLINES:
        assert headline in english
        assert vietnamese(headline) != headline, f"no Vietnamese for {headline!r}"


@pytest.mark.parametrize("headline", TRANSLATED)
def test_vietnamese_page_has_the_translated_heading(headline):
    assert vietnamese(headline) in headings("troubleshooting.vi.md")


def test_every_message_heading_of_the_english_page_has_a_vietnamese_twin():
    # Headings that are not lab messages (Docker's own errors) stay on the English page.
    # + the seven generic verdicts of labkit.diagnose, + the pip guard's refusals.
    assert pipguard.HEADING in TRANSLATED
    assert len(TRANSLATED) == len(HEADLINES) + 7 + 1


def test_printed_link_points_at_the_vietnamese_heading(monkeypatch):
    monkeypatch.setenv("LAB_LANG", "vi")
    found = diagnose.verdict("fail", diagnose_rocm.SKIPPED_NEEDS_OVERRIDE, "x")
    link = entrypoint.troubleshooting_link(found)
    page, anchor = link.split("#")
    assert page == "docs/troubleshooting.vi.md"
    assert anchor in {slug(heading) for heading in headings("troubleshooting.vi.md")}
