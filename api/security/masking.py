"""Masking that says it is masked: a masked value travels with ``masked=True``.

Every function keeps just enough to recognise a record you already know (the surname, a
phone's carrier prefix and last four digits) and replaces each hidden character by one
``*``. ``None`` and ``""`` pass through unmasked: there is nothing to hide.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MASK = "*"

# Two-character surnames keep both characters (欧阳娜娜 → 欧阳**), as a one-character
# surname does; the common ones from the 百家姓 compound list.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里",
        "呼延", "赫连", "澹台", "太史", "申屠", "闻人", "钟离", "宗政", "濮阳", "万俟",
    }
)  # fmt: skip
# The separator in transliterated minority and foreign names (买买提·艾力) stays visible.
_NAME_SEPARATORS = frozenset("·•・")
_MAINLAND_MOBILE = re.compile(r"1\d{10}")
_MAINLAND_PREFIX = re.compile(r"^(?:\+86|0086|86(?=1\d{10}$))")
_RESIDENT_ID = re.compile(r"\d{17}[\dX]")


@dataclass(frozen=True)
class Masked:
    """A value as the caller may see it; ``masked`` says whether part of it was hidden."""

    value: str | None
    masked: bool

    @classmethod
    def unmasked(cls, value: str | None) -> Masked:
        """The value as it is, for a caller allowed to see it."""
        return cls(value, masked=False)


def mask_name(name: str | None) -> Masked:
    """Keep the surname (Chinese) or each word's initial (Latin); one ``*`` per hidden letter.

    Parameters
    ----------
    name : str or None
        A person's name as written in the export.

    Returns
    -------
    Masked
        The masked name; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_name("张伟")
    Masked(value='张*', masked=True)
    >>> mask_name("欧阳娜娜").value
    '欧阳**'
    >>> mask_name("买买提·艾力").value
    '买**·**'
    >>> mask_name("Wei Zhang").value
    'W** Z****'
    >>> mask_name("王")
    Masked(value='*', masked=True)
    >>> mask_name(None)
    Masked(value=None, masked=False)
    """
    if not name or not name.strip():
        return Masked.unmasked(name)
    name = name.strip()
    if _is_han(name[0]):
        kept = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        if len(name) == 1:
            kept = 0  # a one-character name is all surname: keeping it would hide nothing
        hidden = "".join(c if c in _NAME_SEPARATORS else MASK for c in name[kept:])
        return Masked(name[:kept] + hidden, masked=True)
    words = name.split()
    return Masked(" ".join(word[0] + MASK * (len(word) - 1) for word in words), masked=True)


def mask_phone(phone: str | None) -> Masked:
    """Keep a mainland mobile's first 3 and last 4 digits; of other numbers the last 4.

    Spaces, dashes and brackets are dropped. A ``+86``/``0086`` country code (or a bare
    ``86`` before a mobile number) stays visible as ``+86``: it identifies nobody and tells
    the reader which rule applied. Any other leading ``+`` stays; the digits after it are
    masked with the rest, since where a country code ends is not known here.

    Parameters
    ----------
    phone : str or None
        A phone number as written in the export.

    Returns
    -------
    Masked
        The masked number; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_phone("13812340134")
    Masked(value='138****0134', masked=True)
    >>> mask_phone("+86 138-1234-0134").value
    '+86 138****0134'
    >>> mask_phone("010-62345678").value
    '*******5678'
    >>> mask_phone("+44 20 7946 0958").value
    '+********0958'
    >>> mask_phone("110").value
    '***'
    >>> mask_phone("")
    Masked(value='', masked=False)
    """
    if not phone or not phone.strip():
        return Masked.unmasked(phone)
    compact = re.sub(r"[^\d+]", "", phone)
    country = ""
    if prefix := _MAINLAND_PREFIX.match(compact):
        country, compact = "+86 ", compact[prefix.end() :]
    elif compact.startswith("+"):
        country, compact = "+", compact[1:]
    digits = compact.replace("+", "")
    if _MAINLAND_MOBILE.fullmatch(digits):
        return Masked(f"{country}{digits[:3]}{MASK * 4}{digits[-4:]}", masked=True)
    return Masked(country + _keep_last(digits, 4), masked=True)


def mask_id_number(id_number: str | None) -> Masked:
    """An 18-character resident ID keeps its region (first 6) and last 4; others the last 4.

    Parameters
    ----------
    id_number : str or None
        A national ID, passport or other document number.

    Returns
    -------
    Masked
        The masked number; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_id_number("11010119900307123X")
    Masked(value='110101********123X', masked=True)
    >>> mask_id_number("E12345678").value
    '*****5678'
    >>> mask_id_number("1234").value
    '****'
    """
    if not id_number or not id_number.strip():
        return Masked.unmasked(id_number)
    compact = id_number.strip().upper()
    if _RESIDENT_ID.fullmatch(compact):
        return Masked(compact[:6] + MASK * 8 + compact[-4:], masked=True)
    return Masked(_keep_last(compact, 4), masked=True)


def mask_email(email: str | None) -> Masked:
    """Keep the first character of the local part and the whole domain.

    The local part's length is hidden too (always ``***``): it is often the person's name.

    Parameters
    ----------
    email : str or None
        An e-mail address.

    Returns
    -------
    Masked
        The masked address; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_email("wei.zhang@example.com")
    Masked(value='w***@example.com', masked=True)
    >>> mask_email("@example.com").value
    '***@example.com'
    >>> mask_email("not-an-address").value
    'n***'
    """
    if not email or not email.strip():
        return Masked.unmasked(email)
    local, at, domain = email.strip().rpartition("@")
    if not at:  # no domain: all of it is the identifying part
        local, domain = domain, ""
    return Masked(f"{local[:1]}{MASK * 3}{at}{domain}", masked=True)


def _keep_last(text: str, visible: int) -> str:
    """Every character but the last ``visible`` masked; all of it when it is that short."""
    if len(text) <= visible:
        return MASK * len(text)
    return MASK * (len(text) - visible) + text[-visible:]


def _is_han(character: str) -> bool:
    return unicodedata.name(character, "").startswith("CJK UNIFIED IDEOGRAPH")
