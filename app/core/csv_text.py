"""The text of an uploaded CSV file (a roster, households): UTF-8 or GB18030, decoded strictly.

Chinese offices save CSV as UTF-8 (with or without Excel's BOM) or as GB18030/GBK (Excel on
Chinese Windows). Anything else must be refused, not read as whatever a lenient decoder makes
of it: Big5 or Shift-JIS bytes mostly decode as GB18030 too, into plausible-looking nonsense
(`眎,材癘`), and a UTF-8 file with one row pasted from a GBK file decodes as neither.

`decode_csv` tells them apart in this order:

1. `encoding` given (the operator knows): decoded strictly as that, nothing guessed;
2. valid UTF-8 throughout: UTF-8 (a non-UTF-8 file almost never is);
3. lines that fail both UTF-8 and GB18030: refused, naming them;
4. some lines UTF-8 Chinese, others not: a mixed file, refused naming the odd ones out;
5. otherwise it decodes as GB18030, and is accepted only if it reads as Chinese text:
   charset-normalizer must not prefer another encoding, and most of its non-ASCII characters
   must be GB2312's (the 6,763 common hanzi and CJK punctuation). Big5 and Shift-JIS fail the
   second test nearly always (their bytes land on rare GBK characters, kana and Cyrillic).

Line numbers are the file's physical lines (the first is 1). Splitting on the byte 0x0A is
safe in both encodings: it is never part of a multi-byte sequence.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Literal

from charset_normalizer import from_bytes

Encoding = Literal["utf-8", "gb18030"]
ENCODING_NAMES: dict[str, Encoding] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "gb18030": "gb18030",
    "gbk": "gb18030",  # GBK and GB2312 are subsets of GB18030
    "gb2312": "gb18030",
    "cp936": "gb18030",
}
# The detector's names for GB18030 and the subsets it may pick for a short GB file.
_GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312", "cp936", "hz"})
# A GB18030 reading whose non-ASCII characters are less than this share GB2312 hanzi and CJK
# punctuation is not Chinese text. Rosters are ~100% (a rare name character costs little).
MIN_COMMON_SHARE = 0.8
# How much messier (charset-normalizer's "chaos", 0..1) the GB18030 reading may be than the
# detector's best guess: short genuine GB files tie or nearly tie with cp949 or mac_latin2.
MAX_CHAOS_MARGIN = 0.1
_SHOWN_LINES = 20
# What the detector's names mean to an operator.
_KNOWN_AS = {
    "big5": "Big5, traditional Chinese",
    "big5hkscs": "Big5-HKSCS, traditional Chinese",
    "cp950": "Big5, traditional Chinese",
    "cp932": "Shift-JIS, Japanese",
    "shift_jis": "Shift-JIS, Japanese",
    "shift_jis_2004": "Shift-JIS, Japanese",
    "euc_jp": "EUC-JP, Japanese",
    "euc_jis_2004": "EUC-JP, Japanese",
    "cp949": "EUC-KR, Korean",
    "euc_kr": "EUC-KR, Korean",
}
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: Encoding


class EncodingProblem(Exception):
    """The file is not UTF-8 or GB18030 text: why, and the lines that show it (may be none)."""

    def __init__(self, reason: str, lines: list[int] | None = None) -> None:
        self.reason = reason
        self.lines = sorted(set(lines or []))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if not self.lines:
            return self.reason
        return f"{self.reason}: {_line_list(self.lines)}"


def _line_list(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:_SHOWN_LINES])
    more = len(lines) - _SHOWN_LINES
    word = "line" if len(lines) == 1 else "lines"
    return f"{word} {shown}" + (f" and {more} more" if more > 0 else "")


def encoding_named(name: str) -> Encoding:
    """The accepted encoding that `name` (as an operator writes it) means; EncodingProblem
    for any other."""
    found = ENCODING_NAMES.get(name.strip().lower().replace("_", "-"))
    if found is None:
        raise EncodingProblem(
            f"encoding {name!r} is not accepted: only UTF-8 or GB18030 (GBK); convert the file "
            "to one of them"
        )
    return found


def decode_csv(data: bytes, encoding: str | None = None) -> DecodedText:
    """The text of `data` and its encoding, or EncodingProblem naming the failing lines."""
    if data.startswith(_WIDE_BOMS) and not data.startswith(codecs.BOM_UTF8):
        raise EncodingProblem(
            'the file is UTF-16 or UTF-32 (Excel\'s "Unicode Text"): save it as '
            '"CSV UTF-8" or "CSV (comma delimited)"'
        )
    if encoding is not None:
        return _decode_as(data, encoding_named(encoding))
    try:
        return DecodedText(data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    neither: list[int] = []
    utf8_chinese: list[int] = []
    not_utf8: list[int] = []
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            not_utf8.append(number)
            if not _decodes(line, "gb18030"):
                neither.append(number)
            continue
        # Two-byte UTF-8 can be GBK by chance ("隆" is "¡"); three-byte runs of CJK cannot.
        if any(ord(ch) >= 0x800 for ch in text):
            utf8_chinese.append(number)
    if neither:
        raise EncodingProblem("the file is neither UTF-8 nor GB18030 (GBK) text", neither)
    if utf8_chinese:
        raise _mixed(utf8_chinese, not_utf8)
    text = data.decode("gb18030")
    _check_reads_as_chinese(data, text)
    return DecodedText(text, "gb18030")


def _decode_as(data: bytes, encoding: Encoding) -> DecodedText:
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        return DecodedText(data.decode(codec), encoding)
    except UnicodeDecodeError:
        pass
    failing = [
        number
        for number, line in enumerate(data.split(b"\n"), start=1)
        if not _decodes(line, "utf-8-sig" if number == 1 and encoding == "utf-8" else codec)
    ]
    name = "UTF-8" if encoding == "utf-8" else "GB18030"
    raise EncodingProblem(f"the file is not {name} text as --encoding says", failing)


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _mixed(utf8_lines: list[int], other_lines: list[int]) -> EncodingProblem:
    """A file of two encodings: the fewer lines are the ones to fix."""
    if len(other_lines) <= len(utf8_lines):
        return EncodingProblem(
            "the file mixes encodings: it is UTF-8 but these lines are not (pasted from a "
            "GBK file?); save the whole file as UTF-8",
            other_lines,
        )
    return EncodingProblem(
        "the file mixes encodings: most lines are GB18030 (GBK) but these are UTF-8; "
        "save the whole file in one encoding",
        utf8_lines,
    )


def _check_reads_as_chinese(data: bytes, text: str) -> None:
    """EncodingProblem unless GB18030 is a believable reading of `data` (module docstring)."""
    common, total = _common_share(text)
    detected = _detector_prefers(data)
    if detected is None and (total == 0 or common / total >= MIN_COMMON_SHARE):
        return
    if detected is not None:
        looks_like = f" (it looks like {_KNOWN_AS.get(detected, detected)})"
        # The lines whose bytes read differently in the two encodings.
        lines = [
            n
            for n, line in enumerate(data.split(b"\n"), start=1)
            if _reads_differently(line, detected)
        ]
    else:
        looks_like = ""
        lines = [n for n, line in enumerate(text.split("\n"), start=1) if _rare_chars(line)]
    raise EncodingProblem(
        f"the file is not UTF-8, and read as GB18030 it is not Chinese text{looks_like}; "
        "save it as UTF-8 (or pass --encoding gb18030 if it really is GB18030). "
        "These lines would import garbled",
        lines,
    )


def _reads_differently(line: bytes, detected: str) -> bool:
    try:
        return line.decode(detected, errors="replace") != line.decode("gb18030")
    except LookupError:  # a name Python's codecs do not know: any non-ASCII line may differ
        return not line.isascii()


def _is_common(ch: str) -> bool:
    """GB2312 hanzi, CJK and full-width punctuation: what Chinese text is made of."""
    code = ord(ch)
    if not (0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF):
        return ch in "·—…“”‘’"
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _common_share(text: str) -> tuple[int, int]:
    """(common characters, non-ASCII characters) of `text`."""
    wide = [ch for ch in text if not ch.isascii()]
    return sum(1 for ch in wide if _is_common(ch)), len(wide)


def _rare_chars(line: str) -> bool:
    common, total = _common_share(line)
    return total > 0 and common < total


def _detector_prefers(data: bytes) -> str | None:
    """The encoding charset-normalizer finds clearly better than GB18030, if any."""
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    if best.encoding in _GB_FAMILY:
        return None
    gb = [m for m in matches if m.encoding in _GB_FAMILY]
    if gb and gb[0].chaos <= best.chaos + MAX_CHAOS_MARGIN:
        return None
    return str(best.encoding)
