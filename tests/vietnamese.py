"""The Vietnamese the lab shows, read the way the course's lecture speaks. Two checks:

- the glossary (GLOSSARY, from the team's glossary-vi.md, which follows the lecture's own words):
  every Vietnamese text a student reads (the catalogue's translations, README.vi.md,
  docs/*.vi.md, the Vietnamese of the notebooks and of work/README.md) uses one word per term. A
  rule names the word to use, so a failure says exactly what to write instead;
- english_lines(): the lines of what the lab printed in Vietnamese that are still English
  sentences (the browser journey in Vietnamese runs every course notebook through it).

Commands, paths, variable names, placeholders and other programs' quoted words are not prose:
they are removed before either check reads a text (prose()).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labkit import i18n

REPO = Path(__file__).resolve().parent.parent

# --- what is not prose ---------------------------------------------------------------------------

_FENCED = re.compile(r"```.*?```", re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_URL = re.compile(r"\b\w+://\S+")
# One token of code: a path (/dev/kfd, ./work, ~/x, docs/a.md), an option (--fresh, -f), a
# variable or assignment (LAB_UID, KEY=value, $USER), a file or version (compose.yaml, 2.20.0,
# .env), or a name joined with hyphens (tensorflow-rocm, arm64-base). ASCII only, so that
# Vietnamese written with a slash ("thật/ngẫu nhiên") stays prose.
_CODE_TOKEN = re.compile(
    r"(?<![\w/.-])(?:"
    r"[~.]?/[\x21-\x7e]*"  # /dev/kfd, ./work, ~/x
    r"|--?[A-Za-z]\S*"  # --fresh, -f, --device=all, --ServerApp.ip=0.0.0.0
    r"|\$\w+"  # $USER
    r"|\w+=\S*"  # a keyword argument in a Python repr: name='cifar10', data_dir=None
    r"|[\x21-\x7e]*\w[_=.@:/-]\w[\x21-\x7e]*"  # LAB_UID, KEY=value, a.md, 2.20.0, a-b, docs/x
    r"|\.\w[\x21-\x7e]*"  # .env
    r")(?!\w)"  # "ms/bước" and "t.bị" are words cut by a slash or a dot, not code
)


def prose(text: str) -> str:
    """The words of `text` a reader reads as language: code, paths, placeholders and URLs
    removed, Unicode in one normal form (the same diacritic can be typed two ways), markdown
    quote marks dropped and every run of white space one space."""
    text = unicodedata.normalize("NFC", text)
    text = _FENCED.sub(" ", text)
    text = _CODE_SPAN.sub(" ", text)
    text = _LINK_TARGET.sub("] ", text)
    text = _URL.sub(" ", text)
    text = _PLACEHOLDER.sub(" ", text)
    text = re.sub(r"(?m)^\s*>+ ?", "", text)
    text = _CODE_TOKEN.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


# --- the texts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One piece of Vietnamese a student reads on its own: a catalogue message, a page, a
    heading or a notebook's Vietnamese part. `english` is the message id for the catalogue."""

    where: str
    vietnamese: str
    english: str = ""
    heading: bool = False

    @property
    def prose(self) -> str:
        return prose(self.vietnamese)

    @property
    def prose_english(self) -> str:
        return prose(self.english)


def catalogue(lang: str = "vi") -> Iterator[Text]:
    """The catalogue's translations, from the compiled catalogue the lab reads (the .mo holds
    no fuzzy or obsolete entries; tests/unit/test_catalogue.py holds it to the .po)."""
    for english, vietnamese in sorted(i18n.translations(lang)._catalog.items()):
        if english:  # "" is the header
            yield Text(f"courselab.po, msgid {english!r}", vietnamese, english=english)


def pages() -> list[Path]:
    return [REPO / "README.vi.md", *sorted((REPO / "docs").glob("*.vi.md"))]


def page_texts(path: Path) -> Iterator[Text]:
    """The page whole (a first use is first in the page), and each heading on its own."""
    where = str(path.relative_to(REPO))
    text = path.read_text()
    yield Text(where, text)
    for heading in re.findall(r"^#+ (.+)$", _FENCED.sub("", text), re.MULTILINE):
        yield Text(f"{where}, heading {heading!r}", heading, heading=True)


def notebooks() -> list[Path]:
    """The course notebooks, and the work folder's README, written the same way."""
    return [*sorted((REPO / "lab").glob("*.ipynb")), REPO / "work" / "README.md"]


def bilingual_parts(source: str) -> tuple[list[str], str]:
    """A text that writes English first, then Vietnamese: its headings' parts after " · ", and
    its part from "**Tiếng Việt.**" on."""
    labels = re.findall(r"^#+ .+ · (.+)$", source, re.MULTILINE)
    return labels, source.split("**Tiếng Việt.**", 1)[1] if "**Tiếng Việt.**" in source else ""


def notebook_texts(path: Path) -> Iterator[Text]:
    """The Vietnamese of a course notebook (or of work/README.md): each markdown cell's bilingual
    parts (bilingual_parts()) and each code comment's part after " | ". All of it in order as one
    text (a first use is first in the notebook), and each heading and comment label on its own."""
    where = str(path.relative_to(REPO))
    if path.suffix == ".md":
        cells = [{"cell_type": "markdown", "source": path.read_text()}]
    else:
        cells = json.loads(path.read_text())["cells"]
    parts = []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            labels, vietnamese = bilingual_parts(source)
            parts += [*labels, vietnamese]
        else:
            labels = [comment.strip() for comment in re.findall(r"#[^\n]*\|\s*([^\n|]+)$", source, re.MULTILINE)]
            parts += labels
        for label in labels:
            yield Text(f"{where}, cell {index}: {label!r}", label, heading=True)
    yield Text(where, "\n\n".join(parts))


def all_texts() -> list[Text]:
    found = list(catalogue())
    for path in pages():
        found += page_texts(path)
    for path in notebooks():
        found += notebook_texts(path)
    return found


# --- the glossary --------------------------------------------------------------------------------

_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Rule:
    """One row of the glossary, as a check. Three kinds:

    - forbidden: a Vietnamese wording that is wrong wherever it stands (`forbidden`);
    - paired (catalogue only): a message whose English matches `when_english` must say `use`
      (`requires`), and not `instead_of`, which may be right elsewhere ("treo" is right for a
      hang, wrong for a crash);
    - first use: where a text first writes `first_use`, it must be explained (`explained`).

    `wrong` and `right` are samples the rule must catch and must let through: the legitimate
    uses a careless pattern would forbid ("các bạn", "một bạn sinh viên"). A sample for a paired
    rule is a message: (English, Vietnamese)."""

    term: str
    use: str
    forbidden: str = ""
    headings_only: bool = False
    pages_only: bool = False
    when_english: str = ""
    requires: str = ""
    instead_of: str = ""
    first_use: str = ""
    explained: str = ""
    wrong: tuple[str | tuple[str, str], ...] = ()
    right: tuple[str | tuple[str, str], ...] = ()

    def problems(self, text: Text) -> list[str]:
        """What in `text` breaks this rule, each with the word to use instead."""
        read = text.prose
        found = []
        if self.forbidden and text.heading == self.headings_only:
            found += [
                f"{text.where}: {match.group(0)!r} -> {self.use}" for match in re.finditer(self.forbidden, read, _FLAGS)
            ]
        if self.when_english and text.english and re.search(self.when_english, text.prose_english, _FLAGS):
            if not re.search(self.requires, read, _FLAGS):
                found.append(f"{text.where}: says {self.term!r} in English -> {self.use}")
            if self.instead_of:
                found += [
                    f"{text.where}: {match.group(0)!r} is not {self.term!r} -> {self.use}"
                    for match in re.finditer(self.instead_of, read, _FLAGS)
                ]
        if self.first_use and not text.heading and not (self.pages_only and text.english):
            first = re.search(self.first_use, read, _FLAGS)
            if first and not any(
                explanation.start() <= first.start() < explanation.end()
                for explanation in re.finditer(self.explained, read, _FLAGS)
            ):
                found.append(f"{text.where}: {self.term!r} is first used unexplained -> {self.use}")
        return found


# "bạn" is "các bạn" in the lab, as in the lecture; "một bạn sinh viên" (a student), "bạn học"
# (a classmate) and "bạn bè" (friends) are other words.
_YOU = r"(?<![Cc]ác )\bbạn\b(?! (?:sinh viên|học|bè)\b)"

GLOSSARY: tuple[Rule, ...] = (
    Rule(
        "you (the student)",
        "'các bạn'",
        forbidden=_YOU,
        wrong=("Các gói bạn tự cài", "Bạn hãy chạy lại", "máy của bạn."),
        right=("Các gói các bạn tự cài", "các\nbạn hãy chạy lại", "máy của một bạn sinh viên", "bạn bè"),
    ),
    Rule(
        "file / folder",
        "'file' (folder: 'thư mục')",
        forbidden=r"\btệp\b",
        wrong=("các tệp thiết bị",),
        right=("các file thiết bị", "`tệp.txt`"),
    ),
    Rule(
        "pin (an image)",
        "'cố định phiên bản'",
        forbidden=r"\bghim\b",
        when_english=r"\bpin(?:s|ned|ning)?\b",
        requires=r"cố định phiên bản",
        wrong=("hãy ghim một image khác",),
        right=("hãy cố định phiên bản một image khác",),
    ),
    Rule(
        "dataset",
        "'bộ dữ liệu'",
        forbidden=r"\btập dữ liệu\b",
        when_english=r"\bdatasets?\b",
        requires=r"bộ dữ liệu",
        wrong=("batch size hay tập dữ liệu nhỏ hơn",),
        right=("bộ dữ liệu nhỏ hơn", "dữ liệu thật"),
    ),
    Rule(
        "synthetic data",
        "'ngẫu nhiên' (never cut short)",
        forbidden=r"\bngẫu\b(?! nhiên)",
        when_english=r"\bsynth(?:etic)?\b",
        requires=r"ngẫu nhiên",
        wrong=("thật/ngẫu", "dữ liệu ngẫu"),
        right=("thật/ngẫu nhiên", "dữ liệu ngẫu nhiên (synthetic)"),
    ),
    Rule(
        "random seed",
        "'seed ngẫu nhiên'",
        forbidden=r"\bhạt giống\b",
        wrong=("hạt giống ngẫu nhiên (mặc định 42)",),
        right=("seed ngẫu nhiên (mặc định 42)",),
    ),
    Rule(
        "lock file",
        "'file lock'",
        forbidden=r"\bfile kh(?:óa|oá)\b",  # the tone mark sits on either vowel
        wrong=("từ cùng file khóa", "từ cùng file khoá"),
        right=("từ cùng file lock",),
    ),
    Rule(
        "cache volume",
        "'volume cache'",
        forbidden=r"\bcache volume\b",
        wrong=("được lưu trên cache volume",),
        right=("được lưu trên volume cache",),
    ),
    Rule(
        "model",
        "'mô hình'",
        forbidden=r"\bmodel\b",
        wrong=("model lớn và batch lớn",),
        right=("mô hình lớn", "`model.keras`", "{model}, 8 nhân logic"),
    ),
    Rule(
        "image / base image",
        "'image gốc' ('base' alone is English)",
        forbidden=r"\bbase\b",
        wrong=("base {flavour} đã có sẵn", "base ROCm mới hơn"),
        right=("image gốc ROCm mới hơn", "LAB_ROCM_BASE_IMAGE", "`Dockerfile.arm64-base`", "{base}"),
    ),
    Rule(
        "user account",
        "'tài khoản (user)'",
        forbidden=r"\bngười dùng (?:này|của)\b",
        wrong=("trả lời người dùng này", "Người dùng của lab không được phép"),
        right=("trả lời tài khoản (user) này", "GPU cho người dùng cá nhân"),
    ),
    Rule(
        "settings",
        "'thiết lập' ('cài đặt' means install)",
        forbidden=r"\b(?:(?:các|những|mọi) cài đặt|cài đặt (?:khác|nào)|ô cài đặt)\b",
        when_english=r"\bsettings?\b",
        requires=r"thiết lập",
        wrong=("tất cả các cài đặt", "được bắt đầu với cài đặt khác", "sửa ô cài đặt"),
        right=("các thiết lập khác", "cách cài đặt TensorFlow", "đã cài đặt xong"),
    ),
    Rule(
        "settings",
        "'Thiết lập' ('Cài đặt' means install)",
        forbidden=r"^Cài đặt(?:\W*$|:)",
        headings_only=True,
        wrong=("Cài đặt", "Cài đặt: sửa rồi chạy lại các ô bên dưới."),
        right=("Thiết lập", "Cài gói bằng pip", "Cài đặt Docker"),
    ),
    Rule(
        "warm-up",
        "'làm nóng' ('khởi động' is starting the lab)",
        forbidden=r"\blượt khởi động\b",
        when_english=r"\bwarm-?up\b",
        requires=r"làm nóng",
        instead_of=r"khởi động",
        wrong=("một lượt khởi động và 2 lượt đo",),
        right=("một lượt làm nóng và 2 lượt đo", "khởi động lại kernel"),
    ),
    Rule(
        "tracing (tf.function)",
        "'dựng đồ thị tính toán'",
        # The first epoch's one-off costs ("tracing, compilation, cache fill"): "dựng mô hình"
        # elsewhere (building the model) is right.
        forbidden=r"\bdựng mô hình,? (?:và )?biên dịch",
        when_english=r"\btrac(?:e|es|ed|ing)\b",
        requires=r"dựng đồ thị tính toán",
        instead_of=r"dựng mô hình",
        wrong=("(dựng mô hình, biên dịch kernel, nạp dữ liệu)",),
        right=("(dựng đồ thị tính toán, biên dịch kernel)", "mô hình ở ô trên được dựng lại"),
    ),
    Rule(
        "crash",
        "'bị sập' or 'dừng đột ngột' ('treo' is a hang)",
        when_english=r"\bcrash(?:es|ed|ing)?\b",
        requires=r"\bsập\b|dừng đột ngột",
        instead_of=r"\btreo\b",
        wrong=(("a wrong override can crash the driver", "override sai có thể làm driver bị treo"),),
        right=(
            ("a wrong override can crash the driver", "override sai có thể làm driver bị sập"),
            ("a wedged GPU driver is the usual cause", "nguyên nhân thường gặp là driver GPU bị treo"),
        ),
    ),
    Rule(
        "hang",
        "'bị treo'",
        when_english=r"\b(?:hang|hangs|hung|wedged)\b",
        requires=r"\btreo\b",
        wrong=(("a wedged GPU driver is the usual cause", "nguyên nhân thường gặp là driver GPU bị sập"),),
        right=(("a wedged GPU driver is the usual cause", "nguyên nhân thường gặp là driver GPU bị treo"),),
    ),
    Rule(
        "host",
        "'máy thật (ngoài container)'",
        when_english=r"\bhost(?:'s)?\b",
        requires=r"máy thật",
        wrong=(("run `rocminfo` on the host", "chạy `rocminfo` trên máy"),),
        right=(
            ("run `rocminfo` on the host", "chạy `rocminfo` trên máy thật (ngoài container)"),
            ("no network: {host} unreachable", "không có mạng: không kết nối được {host}"),
        ),
    ),
    Rule(
        "overlay (compose file)",
        "'file compose cho GPU (overlay)' where a text first says overlay",
        first_use=r"\boverlay\b",
        explained=r"file compose cho GPU \(overlay\b",
        wrong=("khởi động với overlay cho card của các bạn",),
        right=("khởi động với file compose cho GPU (overlay) của card; overlay đó",),
    ),
    Rule(
        "target (gfx...)",
        "'mã kiến trúc GPU (target, ví dụ gfx1030)' where a text first says target",
        first_use=r"\btarget\b",
        explained=r"mã kiến trúc GPU \(target\b",
        wrong=("không rõ target",),
        right=("không rõ mã kiến trúc GPU (target)", "{target} không có trong danh sách"),
    ),
    Rule(
        "container",
        "\"container ('máy ảo' Docker, như trong bài giảng)\" where a page first says container",
        first_use=r"\bcontainer\b",
        explained=r"container \('máy ảo' Docker",
        pages_only=True,
        wrong=("dù container có gặp chuyện gì",),
        right=("dù container ('máy ảo' Docker, như trong bài giảng) có gặp chuyện gì; container",),
    ),
    Rule(
        "benchmark headers",
        "whole words: 'mỗi thiết bị', 's/epoch (ước tính)'",
        forbidden=r"\bt\. ?bị\b|\bước\b(?! (?:tính|lượng))",
        wrong=("mỗi t.bị", "ước s/epoch"),
        right=("mỗi thiết bị", "s/epoch (ước tính)"),
    ),
)


def sample(rule: Rule, words: str | tuple[str, str]) -> Text:
    """One of a rule's samples, as the kind of text the rule reads: Vietnamese alone, or a
    message (its English, its Vietnamese) for a paired rule."""
    english, words = words if isinstance(words, tuple) else ("", words)
    return Text("sample", words, english=english, heading=rule.headings_only)


# --- English left in what the lab prints ---------------------------------------------------------

_VIETNAMESE_LETTER = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]", re.IGNORECASE)
# A terminal's colour and cursor codes (Keras and rich print them into notebooks) are not words.
_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\r\b]")
_QUOTED = re.compile(r"(?<!\w)'[^']*'(?!\w)|\"[^\"]*\"")
# Words an English sentence cannot do without, beyond what the catalogue's English has.
_FUNCTION_WORDS = frozenset(
    "the a an of and or but is are was were be been not no with without for from this that these those "
    "your you it its on at by per into than then there here has have had will would can could should "
    "must may what which who when where why how all any each every".split()
)
# Other programs' own output, recognised by its format, not by its words. Log records: TensorFlow's
# and absl's (glog "W0000 00:00:00.000000  123 file.cc:45] ..." or "2026-01-01 12:00:00.000000: I
# tensorflow/..."), absl's pre-init warning and Python's logging ("WARNING:absl:..."); a record's
# message may go on over the next lines, up to a blank line or the next record. And Keras' tables
# and progress bars: box-drawing characters, "Epoch 1/2", model.summary()'s header and totals.
_LOG_RECORD = re.compile(
    r"^\s*(?:"
    r"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:"
    r")"
)
_KERAS = re.compile(
    r"[\u2500-\u257f]|^\s*(?:Epoch \d+/\d+$|Model: \"|(?:Total|Trainable|Non-trainable|Optimizer) params: )"
)


def english_vocabulary() -> frozenset[str]:
    """Words the lab writes in English and never in Vietnamese: the catalogue's English prose
    minus every word its Vietnamese keeps as its own (GPU, epoch, batch, image; words it quotes
    from other programs do not count), plus the function words any English sentence has."""
    english, kept = set(), set()
    for text in catalogue():
        english |= set(words(text.prose_english))
        kept |= set(words(prose(_QUOTED.sub(" ", text.vietnamese))))
    return frozenset((english - kept) | _FUNCTION_WORDS)


def words(text: str) -> list[str]:
    return [word.lower() for word in re.findall(r"[A-Za-z]+(?:'[a-z]+)?", text)]


def english_lines(printed: str, vocabulary: frozenset[str]) -> list[str]:
    """The lines of `printed` that hold an English sentence or label: a part (between : ; | ,
    and brackets) with no Vietnamese letter and a word of `vocabulary`. Code and paths are not
    read (prose()), nor quoted words ('...', "..."), nor terminal codes, nor other programs' log
    records and tables."""
    found, in_record = [], False
    for line in _TERMINAL_CODES.sub("", printed).splitlines():
        in_record = bool(_LOG_RECORD.search(line)) or (in_record and bool(line.strip()))
        if in_record or _KERAS.search(line):
            continue
        read = prose(_QUOTED.sub(" ", line))
        for part in re.split(r"[:;|,()\[\]]| - ", read):
            if not _VIETNAMESE_LETTER.search(part) and set(words(part)) & vocabulary:
                found.append(line)
                break
    return found
