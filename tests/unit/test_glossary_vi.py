"""The Vietnamese the lab shows follows one terminology, the lecture's (tests/vietnamese.py holds
the glossary as rules): the catalogue's translations, README.vi.md, docs/*.vi.md and the
notebooks' Vietnamese. A failure names the text, the words and the word to use instead."""

from __future__ import annotations

from pathlib import Path

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


# --- English left in what the lab prints (the browser journey in Vietnamese uses this check) ---

VOCABULARY = vietnamese.english_vocabulary()
OTHER_PROGRAMS = Path(__file__).parent / "fixtures" / "other_programs"
# What main's notebooks printed with LAB_LANG=vi before they printed through the catalogue, and
# a line of the lab's own English (the same line as English and as Vietnamese, from the catalogue).
ENGLISH_LEFT = (
    "No GPU visible: TensorFlow runs on the CPU",
    "/CPU:0: first 41.2 ms, median of the rest 38.9 ms",
    "ran on: CPU the CPU split into 1 logical devices",
    "steady state: 0.61 s per epoch, 211.4 images/s",
    "files: ['epochs.csv', 'model.keras', 'results.json']",
    "Note: bỏ qua dữ liệu thật: bộ dữ liệu 'cifar10' chưa có sẵn offline",
    "Stack: cpu (không tìm thấy GPU; lab CPU sẽ chạy)",
)


def test_english_left_in_a_vietnamese_output_is_found() -> None:
    for line in ENGLISH_LEFT:
        assert vietnamese.english_lines(line, VOCABULARY) == [line]


def test_every_vietnamese_message_of_the_catalogue_reads_as_vietnamese() -> None:
    english = [
        text.vietnamese for text in vietnamese.catalogue() if vietnamese.english_lines(text.vietnamese, VOCABULARY)
    ]
    assert english == []


def test_every_english_sentence_of_the_catalogue_is_found() -> None:
    # Messages of a few names and kept words ("TensorFlow {version}", "epoch") are not sentences.
    sentences = [text.english for text in vietnamese.catalogue() if len(vietnamese.words(text.prose_english)) >= 4]
    missed = [english for english in sentences if not vietnamese.english_lines(english, VOCABULARY)]
    assert len(sentences) > 400
    assert missed == []


@pytest.mark.parametrize("name", ["keras-3.15.1-summary-and-fit.txt", "tensorflow-2.20.0-cpu-log-level-0.txt"])
def test_other_programs_own_lines_are_not_the_labs_english(name: str) -> None:
    printed = (OTHER_PROGRAMS / name).read_text()
    assert vietnamese.english_lines(printed, VOCABULARY) == []
    # ... and not because the check reads nothing: the same words as a line of the lab's are found.
    assert vietnamese.english_lines("accuracy: 0.25, loss: 2.33, rebuild TensorFlow with the flags", VOCABULARY)
