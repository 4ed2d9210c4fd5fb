"""Which text encoding a file is read with: the one its mapping declares, else one detected
from a sample of its bytes (UTF-8 first, then charset-normalizer), always reported with how
it was chosen and how sure the choice is.

A declared encoding always wins. ``gbk``, ``gb2312`` and ``cp936`` are read as ``gb18030``,
the standard that contains them both, so a GBK file with a character outside GBK still
decodes. Bytes the chosen encoding cannot decode stay inside the one field they spoil (as
surrogate escapes), so that row alone is rejected.

Examples
--------
>>> canonical_encoding("GBK")
'gb18030'
>>> choice = detect_encoding("客户号,客户名称\\nC1,张伟\\nC2,李娜\\n".encode("gb18030"))
>>> choice.encoding, choice.how
('gb18030', 'detected')
>>> detect_encoding("customer_id,name\\nC1,张伟\\n".encode()).describe()
'utf-8 (detected, confidence 1.00)'
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from graph.errors import CrkgError

SAMPLE_BYTES: Final = 256 * 1024
UTF8: Final = "utf-8"
# Read as their superset: every GBK or GB2312 file is a GB18030 file.
_SUPERSETS: Final = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}
_GB_FAMILY: Final = frozenset({"gb18030", "gbk", "gb2312", "cp936", "hz"})
_PLAUSIBLE_CHAOS: Final = 0.3  # charset-normalizer's mess ratio beyond which a reading is noise
_CHAOS_MARGIN: Final = 0.1  # readings this close to the least messy one are all considered
_NEAR_TIE: Final = 0.02
_FOREIGN_BYTES: Final = 4  # fewer non-UTF-8 bytes than this are damage, not an encoding
_BIG5_FAMILY: Final = frozenset({"big5", "big5hkscs", "cp950"})


def _preference(encoding: str) -> int:
    """Among equally Chinese readings: simplified (GB) before traditional (Big5) first."""
    return 0 if encoding in _GB_FAMILY else 1 if encoding in _BIG5_FAMILY else 2


How = Literal["declared", "detected"]


class EncodingError(CrkgError):
    """An encoding name Python does not know."""


def canonical_encoding(name: str) -> str:
    """The codec a declared name is read with (``GBK`` → ``gb18030``); unknown names fail."""
    try:
        codec = codecs.lookup(name.strip()).name
    except LookupError:
        raise EncodingError(
            f"unknown encoding {name!r}",
            hint="use a Python codec name: utf-8, gb18030 (covers GBK and GB2312), big5, …",
        ) from None
    if codec == "utf-8-sig":
        return UTF8  # the reader strips a BOM itself
    return _SUPERSETS.get(codec, codec)


@dataclass(frozen=True)
class EncodingChoice:
    """The encoding a file is read with, how it was chosen and how sure that is (0..1)."""

    encoding: str
    how: How
    confidence: float
    alternatives: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        if self.how == "declared":
            return f"{self.encoding} (declared)"
        text = f"{self.encoding} (detected, confidence {self.confidence:.2f})"
        if self.alternatives:
            text += f"; also plausible: {', '.join(self.alternatives)}"
        return text


def declared(name: str) -> EncodingChoice:
    return EncodingChoice(canonical_encoding(name), "declared", 1.0)


def detect_file_encoding(path: Path) -> EncodingChoice:
    """Detect from the first ``SAMPLE_BYTES`` of a file."""
    with path.open("rb") as handle:
        return detect_encoding(handle.read(SAMPLE_BYTES))


def _utf8_share(sample: bytes) -> tuple[float, int] | None:
    """The share of non-ASCII lines that are valid UTF-8, and the non-ASCII bytes of the
    others (None: the sample is ASCII)."""
    lines = [line for line in sample.split(b"\n") if not line.isascii()]
    if lines and len(sample) >= SAMPLE_BYTES:
        lines = lines[:-1] or lines  # the last line may be cut inside a character
    if not lines:
        return None
    valid = foreign = 0
    for line in lines:
        try:
            line.decode(UTF8)
            valid += 1
        except UnicodeDecodeError:
            foreign += sum(1 for byte in line if byte > 0x7F)
    return valid / len(lines), foreign


def _chinese_share(text: str) -> float:
    """The share of non-ASCII characters that are Han ideographs or CJK punctuation."""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return 0.0
    han = sum(
        1
        for ch in wide
        if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff01" <= ch <= "\uff5e"
    )
    return han / len(wide)


def detect_encoding(sample: bytes) -> EncodingChoice:
    """The sample's encoding: UTF-8 when its non-ASCII lines mostly are (the odd bad line is
    then rejected on its own), else charset-normalizer's best reading."""
    if sample.startswith(codecs.BOM_UTF8):
        return EncodingChoice(UTF8, "detected", 1.0)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return EncodingChoice("utf-16", "detected", 1.0)
    measured = _utf8_share(sample)
    if measured is None:
        return EncodingChoice(UTF8, "detected", 1.0)
    share, foreign = measured
    if share >= 0.5 or foreign < _FOREIGN_BYTES:
        # mostly UTF-8, or a stray byte or two: UTF-8, and those rows are rejected
        return EncodingChoice(UTF8, "detected", round(share, 2))
    from charset_normalizer import from_bytes

    matches = [
        m
        for m in from_bytes(sample)
        if m.chaos <= _PLAUSIBLE_CHAOS and not m.encoding.startswith(("utf_16", "utf_32"))
    ]
    if not matches:
        return EncodingChoice(UTF8, "detected", 0.0)
    best_chaos = min(m.chaos for m in matches)
    plausible = [m for m in matches if m.chaos <= best_chaos + _CHAOS_MARGIN]
    # On short samples GBK bytes read as well in cp949 or cp932 by the detector's measure;
    # the reading that is Chinese text (Han and CJK punctuation only) is the one meant.
    scored = sorted(
        plausible,
        key=lambda m: (-round(_chinese_share(str(m)), 2), _preference(m.encoding), m.chaos),
    )
    chosen = scored[0]
    top = (_chinese_share(str(chosen)), chosen.chaos)
    ties = [
        canonical_encoding(m.encoding)
        for m in scored[1:]
        if abs(_chinese_share(str(m)) - top[0]) < 0.01 and m.chaos <= top[1] + _NEAR_TIE
    ]
    ties = list(dict.fromkeys(t for t in ties if t != canonical_encoding(chosen.encoding)))
    confidence = max(0.0, 1.0 - chosen.chaos) / (1 + len(ties))
    return EncodingChoice(
        canonical_encoding(chosen.encoding), "detected", round(confidence, 2), tuple(ties[:3])
    )
