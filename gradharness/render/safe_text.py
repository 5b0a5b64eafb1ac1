"""Text that came from the user (file names, messages, errors, notes, output, code), made safe to show.

A terminal obeys escape sequences and bidi controls reorder what a reader sees, so a file name or an
exception message could paint a fake green PASS or hide part of a line. :func:`shown` writes each such
character as a visible escape (``\\x1b``, ``\\u202e``) and caps the text in UTF-8 bytes, saying how
much was cut; :func:`csv_cell` keeps a spreadsheet from reading a cell as a formula. Every renderer
passes user-derived text through here, so there is one definition of "safe".
"""

from __future__ import annotations

from rich.markup import escape

__all__ = [
    "CODE_BYTES",
    "DIFF_BYTES",
    "LINE_BYTES",
    "MESSAGE_BYTES",
    "csv_cell",
    "cut",
    "cut_marker",
    "shown",
    "shown_markup",
    "utf8_size",
]

MESSAGE_BYTES = 4096  # a message, error or note in a report or on the terminal
LINE_BYTES = 1000  # one line of the user's code in a report
CODE_BYTES = 150_000  # all the lines of the user's code in one view of a report
DIFF_BYTES = 8192  # one mutant's diff

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_LINE_SEPARATORS = (0x2028, 0x2029)  # break lines in some viewers, like a newline
# Lone surrogates are what undecodable bytes of a file name become (surrogateescape); a terminal
# cannot encode them, so printing one raw would end the run with a traceback.
_SURROGATES = range(0xD800, 0xE000)
_CONTROLS = (*range(0x20), 0x7F, *range(0x80, 0xA0))


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_ONE_LINE = {code: _escape(code) for code in (*_CONTROLS, *_BIDI, *_LINE_SEPARATORS, *_SURROGATES)}
_BLOCK = {code: text for code, text in _ONE_LINE.items() if code not in (0x09, 0x0A)}

# OWASP's list for CSV injection: a spreadsheet evaluates a cell that starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def utf8_size(text: str) -> int:
    """The length of ``text`` in UTF-8 bytes (a lone surrogate counts as the 3 bytes it would take)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def cut(text: str, limit_bytes: int) -> tuple[str, int]:
    """The longest start of ``text`` within ``limit_bytes`` UTF-8 bytes, never half a character; and the bytes left out.

    >>> cut("héllo", 2)
    ('h', 5)
    """
    if len(text) * 4 <= limit_bytes:  # no character takes more than 4 bytes: it fits
        return text, 0
    head = text[: max(limit_bytes, 0)].encode("utf-8", "surrogatepass")
    if len(text) <= limit_bytes and len(head) <= limit_bytes:
        return text, 0
    end = min(max(limit_bytes, 0), len(head))
    while 0 < end < len(head) and head[end] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
        end -= 1
    return head[:end].decode("utf-8", "surrogatepass"), utf8_size(text) - end


def cut_marker(dropped: int) -> str:
    """What is written where text was cut: how many bytes are not shown."""
    return f" … [cut: {dropped} more bytes]"


def shown(text: str, limit_bytes: int | None = None, *, keep_newlines: bool = False) -> str:
    """``text`` with control, bidi and unprintable characters written as visible escapes, capped in bytes.

    * ``limit_bytes``: at most this many UTF-8 bytes of ``text`` are kept (whole characters), followed by
      ``… [cut: N more bytes]``; default: no cap. Escaping can make the result up to six times longer
      than what was kept (``\\x1b`` for one byte), never more.
    * ``keep_newlines``: keep newlines and tabs (a multi-line block such as code or an output tail);
      by default they are escaped too, so the text stays on one line and cannot start a fake one.

    Escaped: C0 controls, DEL, C1 controls (U+0080-U+009F, which include the one-byte CSI), bidi
    embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C),
    the line and paragraph separators, and lone surrogates.

    >>> shown("ok.py\\x1b[32m PASS")
    'ok.py\\\\x1b[32m PASS'
    """
    kept, dropped = cut(text, limit_bytes) if limit_bytes is not None else (text, 0)
    escaped = kept.translate(_BLOCK if keep_newlines else _ONE_LINE)
    return escaped + cut_marker(dropped) if dropped else escaped


def shown_markup(text: object, limit_bytes: int | None = MESSAGE_BYTES) -> str:
    """:func:`shown` (one line, capped), then escaped for rich's console markup, ready for ``console.print``."""
    return escape(shown(str(text), limit_bytes))


def csv_cell(text: str) -> str:
    """A CSV cell of user text that no spreadsheet reads as a formula: a leading ``'`` when it starts like one.

    Only for text that comes from the user; numbers that gradharness writes (``-0.5``) stay numbers.

    >>> csv_cell('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    """
    return "'" + text if text.startswith(_FORMULA_START) else text
