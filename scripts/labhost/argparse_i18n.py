"""argparse's own words ("usage: ", "options", "error: ", "invalid choice: ...") in the
student's language, for `scripts/lab` only.

argparse looks its words up with `gettext.gettext` in gettext's default domain (CPython's
Lib/argparse.py, 3.9 to 3.13), so the only way to translate them through argparse itself is to
bind that process-wide domain, which would change every other argparse parser and every other
`gettext.gettext` caller in the process. Instead, this parser passes argparse the translated
words where argparse takes them as arguments (the usage prefix, the group titles, the -h help)
and translates the error message it is handed in error(). The English is argparse's own: with
no translation (English, the default) every word is argparse's, unchanged.

Translations come from the course catalogue (labkit.i18n), looked up when the parser is built
and when it formats help or an error, so LAB_LANG must be decided before the parser is built
(labhost.cli does).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from labkit.i18n import N_, _

# argparse's English word -> the catalogue's message for it. Python 3.9 titles the options
# "optional arguments", 3.10 and later "options": both read the same in Vietnamese.
WORDS = {
    "usage: ": N_("usage: "),
    "positional arguments": N_("positional arguments"),
    "options": N_("options"),
    "optional arguments": N_("options"),
    "show this help message and exit": N_("show this help message and exit"),
}

# The usage errors argparse can give scripts/lab's parser (it has no mutually exclusive groups
# and no argument of its own type), as regular expressions over argparse's English (3.9-3.13:
# a choice is shown with or without quotes, so a field takes whatever argparse put there) ->
# the catalogue's message, with the fields as {placeholders}.
ERRORS = (
    (r"argument (?P<argument>[^ ]+?): (?P<message>.+)", N_("argument {argument}: {message}")),
    (
        r"the following arguments are required: (?P<arguments>.+)",
        N_("the following arguments are required: {arguments}"),
    ),
    (r"unrecognized arguments: (?P<arguments>.+)", N_("unrecognized arguments: {arguments}")),
    (
        r"invalid choice: (?P<value>.+) \(choose from (?P<choices>.+)\)",
        N_("invalid choice: {value} (choose from {choices})"),
    ),
    (r"expected one argument", N_("expected one argument")),
    (r"expected at most one argument", N_("expected at most one argument")),
    (r"expected at least one argument", N_("expected at least one argument")),
    (r"ignored explicit argument (?P<value>.+)", N_("ignored explicit argument {value}")),
    (
        r"ambiguous option: (?P<option>.+?) could match (?P<matches>.+)",
        N_("ambiguous option: {option} could match {matches}"),
    ),
    (r"invalid (?P<type>[^ ]+) value: (?P<value>.+)", N_("invalid {type} value: {value}")),
)
ERROR_LINE = N_("{prog}: error: {message}")


def word(english: str) -> str:
    """argparse's word in the student's language; argparse's own when it has no translation."""
    message = WORDS.get(english, english)
    translated = _(message)
    return english if translated == message else translated


def error_message(english: str) -> str:
    """An error argparse formatted in English, in the student's language; unchanged when it is
    not one of ERRORS or has no translation (a new argparse's wording stays readable)."""
    for pattern, message in ERRORS:
        found = re.fullmatch(pattern, english, flags=re.DOTALL)
        if found is None:
            continue
        translated = _(message)
        if translated == message:
            return english
        fields = found.groupdict()
        if "message" in fields:  # "argument --flavour: invalid choice: ..."
            fields["message"] = error_message(fields["message"])
        return translated.format(**fields)
    return english


class TranslatedHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, word("usage: ") if prefix is None else prefix)


class TranslatedArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words are in the student's language. Its subparsers are of
    the same class (argparse's default parser_class is type(self)), so they are too."""

    def __init__(self, *args, add_help: bool = True, **kwargs) -> None:
        kwargs.setdefault("formatter_class", TranslatedHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        if add_help:  # what argparse adds itself, with the help line translated
            prefix = "-" if "-" in self.prefix_chars else self.prefix_chars[0]
            self.add_argument(
                prefix + "h",
                prefix * 2 + "help",
                action="help",
                default=argparse.SUPPRESS,
                help=word("show this help message and exit"),
            )

    def add_argument_group(self, *args, **kwargs) -> argparse._ArgumentGroup:
        group = super().add_argument_group(*args, **kwargs)
        if group.title in WORDS:  # argparse's own "positional arguments" and "options"
            group.title = word(group.title)
        return group

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, _(ERROR_LINE).format(prog=self.prog, message=error_message(message)) + "\n")
