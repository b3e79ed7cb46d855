"""The Vietnamese the lab shows follows one terminology, the lecture's (tests/vietnamese.py holds
the glossary as rules): the catalogue's translations, README.vi.md, docs/*.vi.md and the
notebooks' Vietnamese. A failure names the text, the words and the word to use instead."""

from __future__ import annotations

import pytest
import vietnamese
from vietnamese import GLOSSARY, Rule, sample

TEXTS = vietnamese.all_texts()


def rule_id(rule: Rule) -> str:
    kind = "first use" if rule.first_use else "headings" if rule.headings_only else "words"
    return f"{rule.term} ({kind})"


@pytest.mark.parametrize("rule", GLOSSARY, ids=rule_id)
def test_vietnamese_follows_the_glossary(rule: Rule) -> None:
    problems = [problem for text in TEXTS for problem in rule.problems(text)]
    assert problems == [], f"{len(problems)} text(s) break the glossary:\n" + "\n".join(problems)


@pytest.mark.parametrize("rule", GLOSSARY, ids=rule_id)
def test_rule_catches_its_wrong_samples_and_lets_legitimate_uses_through(rule: Rule) -> None:
    for words in rule.wrong:
        problems = rule.problems(sample(rule, words))
        assert problems, f"{words!r} should break {rule.term!r}"
        assert all(problem.endswith(rule.use) for problem in problems), problems
    for words in rule.right:
        assert rule.problems(sample(rule, words)) == [], f"{words!r} is a legitimate use"


def test_the_glossary_reads_every_vietnamese_text() -> None:
    where = {text.where.split(",")[0] for text in TEXTS}
    assert {"README.vi.md", "docs/troubleshooting.vi.md", "docs/settings.vi.md", "work/README.md"} <= where
    assert {f"lab/{name}" for name in ("01-check-gpu.ipynb", "02-train.ipynb", "03-cpu-vs-gpu.ipynb")} <= where
    assert sum(1 for text in TEXTS if text.english) > 500  # the catalogue
    assert all(text.prose for text in TEXTS if not text.heading and not text.english)  # pages read


def test_prose_leaves_out_commands_paths_and_placeholders() -> None:
    text = "chạy `stat -c %g /dev/kfd` trên máy thật, xem docs/settings.vi.md và {target}; LAB_UID=1000 --fresh"
    assert vietnamese.prose(text) == "chạy trên máy thật, xem và ;"
    # Words written with a slash or a dot are words, not paths.
    assert vietnamese.prose("thật/ngẫu nhiên, mỗi t.bị, ms/bước") == "thật/ngẫu nhiên, mỗi t.bị, ms/bước"
