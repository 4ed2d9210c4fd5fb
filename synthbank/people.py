"""Customers: names, places, branches and RMs, value and lifecycle, and their PII.

Everything is drawn per column for all customers at once. PII is realistic in form and unique
across customers (phones, ID numbers, e-mails, devices, addresses are redrawn until distinct),
which is what lets the risk stage plant shared-identifier rings that are the *only* sharing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from synthbank import vocab
from synthbank.util import (
    I64,
    REF_DAY,
    YEAR_DAYS,
    Bool,
    Str,
    as_i64,
    digits,
    first_occurrence,
    group_starts,
    pick_in_groups,
    unique_draw,
    weighted_index,
    ymd,
)

CITY_NAMES: Final = np.array([c[0] for c in vocab.CITIES])
CITY_WEIGHTS: Final = np.array([c[1] for c in vocab.CITIES], dtype=np.float64)
CITY_CODES: Final = np.array([c[2] for c in vocab.CITIES], dtype=np.int64)
_DISTRICT_COUNTS: Final = np.array([len(c[3]) for c in vocab.CITIES], dtype=np.int64)
DISTRICT_STARTS: Final = group_starts(_DISTRICT_COUNTS)
DISTRICT_COUNTS: Final = _DISTRICT_COUNTS
DISTRICTS: Final = np.array([d for c in vocab.CITIES for d in c[3]])

_SURNAMES: Final = np.array([s[0] for s in vocab.SURNAMES])
_SURNAME_PINYIN: Final = np.array([s[1] for s in vocab.SURNAMES])
_SURNAME_CUM: Final = np.cumsum([s[2] for s in vocab.SURNAMES])
_GIVEN: Final = np.array([g[0] for g in (*vocab.GIVEN_MALE, *vocab.GIVEN_FEMALE)])
_GIVEN_PINYIN: Final = np.array([g[1] for g in (*vocab.GIVEN_MALE, *vocab.GIVEN_FEMALE)])
_N_MALE: Final = len(vocab.GIVEN_MALE)
_N_FEMALE: Final = len(vocab.GIVEN_FEMALE)
_BRANDS: Final = np.array(vocab.BRANDS)
_INDUSTRIES: Final = np.array(vocab.INDUSTRIES)
_SUFFIXES: Final = np.array([s[0] for s in vocab.COMPANY_SUFFIXES])
_SUFFIX_CUM: Final = np.cumsum([s[1] for s in vocab.COMPANY_SUFFIXES])
_PHONE_PREFIXES: Final = np.array(vocab.PHONE_PREFIXES, dtype=np.int64)
_DOMAINS: Final = np.array(vocab.EMAIL_DOMAINS)
_ROADS: Final = np.array(vocab.ROADS)
_ID_WEIGHTS: Final = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK: Final = np.array(list("10X98765432"))
_USCC_CHARS: Final = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
_USCC_WEIGHTS: Final = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)

COMPANY_SHARE: Final = 0.10
CUSTOMERS_PER_BRANCH: Final = 2_500
CUSTOMERS_PER_RM: Final = 300
# Age bands of adult customers and their shares (a retail book skews to working age).
_AGE_EDGES: Final = np.array([18, 26, 36, 46, 56, 66, 86], dtype=np.float64)
_AGE_CUM: Final = np.cumsum([0.12, 0.24, 0.22, 0.18, 0.14, 0.10])
# Days since last activity, by lifecycle band: active, cooling, churn risk, dormant.
_INACTIVE_LOW: Final = np.array([0, 31, 91, 181], dtype=np.int64)
_INACTIVE_HIGH: Final = np.array([30, 90, 180, 2000], dtype=np.int64)
_INACTIVE_CUM: Final = np.cumsum([0.55, 0.12, 0.10, 0.23])
_RISK_CUM: Final = np.cumsum([0.12, 0.33, 0.33, 0.15, 0.07])


@dataclass(frozen=True)
class People:
    """Customer attributes, one array entry per customer (index = customer number - 1)."""

    n: int
    is_company: Bool
    gender: I64  # 0 male, 1 female, -1 company
    birth: I64  # day of birth; founding day for companies
    name: Str
    city: I64
    branch: I64
    rm: I64
    aum_cents: I64
    risk_rating: I64
    consent: Bool
    onboarded: I64
    last_active: I64
    phone: I64  # 0 = none
    id_number: Str
    email: Str  # "" = none
    device1: I64  # -1 = none; 63-bit values rendered as hex
    device2: I64
    address: Str  # "" = none

    @property
    def age_years(self) -> I64:
        """Completed years of age (of persons; of the company for companies)."""
        return as_i64((REF_DAY - self.birth) // YEAR_DAYS)


@dataclass(frozen=True)
class Branches:
    """Branches (by city) and the relationship managers working in them."""

    city: I64  # branch -> city
    rm_branch: I64  # rm -> branch
    rm_name: Str


def _concat(*parts: Str | str) -> Str:
    """Element-wise concatenation of string arrays (or scalars broadcast against them)."""
    out = np.asarray(parts[0])
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def _num(values: I64) -> Str:
    """Decimal text of integers."""
    return np.asarray(values).astype(str)


def person_names(rng: np.random.Generator, gender: I64) -> tuple[Str, Str]:
    """Chinese names (surname + one or two given characters) and their pinyin."""
    n = len(gender)
    surname = weighted_index(rng, _SURNAME_CUM, n)
    female = gender == 1
    first = np.where(
        female,
        _N_MALE + rng.integers(0, _N_FEMALE, n),
        rng.integers(0, _N_MALE, n),
    )
    second = np.where(
        female,
        _N_MALE + rng.integers(0, _N_FEMALE, n),
        rng.integers(0, _N_MALE, n),
    )
    # About a third of modern names have a single given character.
    single = rng.random(n) < 0.3
    given2 = np.where(single, "", _GIVEN[second])
    pinyin2 = np.where(single, "", _GIVEN_PINYIN[second])
    names = _concat(_SURNAMES[surname], _GIVEN[first], given2)
    pinyin = _concat(_SURNAME_PINYIN[surname], _GIVEN_PINYIN[first], pinyin2)
    return names, pinyin


def company_names(rng: np.random.Generator, city: I64) -> Str:
    """Company names such as 深圳华鑫科技有限公司 (city, trade name, industry, legal form)."""
    n = len(city)
    return _concat(
        CITY_NAMES[city],
        _BRANDS[rng.integers(0, len(_BRANDS), n)],
        _INDUSTRIES[rng.integers(0, len(_INDUSTRIES), n)],
        _SUFFIXES[weighted_index(rng, _SUFFIX_CUM, n)],
    )


def _phones(rng: np.random.Generator, n: int, exclude: I64 | None = None) -> I64:
    """Distinct 11-digit mobile numbers on real carrier prefixes."""

    def draw(g: np.random.Generator, k: int) -> I64:
        prefix = _PHONE_PREFIXES[g.integers(0, len(_PHONE_PREFIXES), k)]
        return as_i64(prefix * 100_000_000 + g.integers(0, 100_000_000, k))

    return as_i64(unique_draw(rng, draw, n, exclude))


def new_phones(rng: np.random.Generator, n: int, taken: I64) -> I64:
    """Mobile numbers not in ``taken`` and distinct from each other."""
    return _phones(rng, n, taken)


def new_devices(rng: np.random.Generator, n: int, taken: I64) -> I64:
    """Device identifiers (63-bit) not in ``taken`` and distinct from each other."""

    def draw(g: np.random.Generator, k: int) -> I64:
        return as_i64(g.integers(0, 2**63 - 1, k, dtype=np.int64))

    return as_i64(unique_draw(rng, draw, n, taken))


def _id_numbers(rng: np.random.Generator, city: I64, birth: I64, gender: I64) -> Str:
    """18-character resident ID numbers: birthplace code, birth date, sequence, check digit."""
    n = len(city)
    born_elsewhere = rng.random(n) < 0.15
    region = np.where(
        born_elsewhere, CITY_CODES[rng.integers(0, len(CITY_CODES), n)], CITY_CODES[city]
    )
    year, month, day = ymd(birth)
    stem = region * 10**11 + (year * 10_000 + month * 100 + day) * 1000

    # The sequence's last digit is odd for men and even for women, as on real ID cards;
    # clashes of (birthplace, birthday, sequence) are redrawn so that numbers are distinct.
    male = (gender == 0).astype(np.int64)
    body = as_i64(stem + rng.integers(0, 500, n) * 2 + male)
    for _ in range(200):
        redo = ~first_occurrence(body)
        count = int(redo.sum())
        if count == 0:
            break
        body[redo] = stem[redo] + rng.integers(0, 500, count) * 2 + male[redo]
    check = (digits(body, 17) @ _ID_WEIGHTS) % 11
    return np.strings.add(_num(body), _ID_CHECK[check])


def _credit_codes(rng: np.random.Generator, city: I64) -> Str:
    """Unified social credit codes of companies (18 characters, mod-31 check character)."""
    n = len(city)

    def draw(g: np.random.Generator, k: int) -> I64:
        return as_i64(g.integers(0, 31**9, k, dtype=np.int64))

    org = as_i64(unique_draw(rng, draw, n))
    codes = np.empty((n, 17), dtype=np.int64)
    codes[:, 0] = 9  # registered with the market regulator
    codes[:, 1] = 1  # an enterprise
    codes[:, 2:8] = digits(CITY_CODES[city], 6)
    powers = 31 ** np.arange(8, -1, -1, dtype=np.int64)
    codes[:, 8:] = (org[:, None] // powers[None, :]) % 31
    check = (31 - (codes @ _USCC_WEIGHTS) % 31) % 31
    chars = _USCC_CHARS[np.concatenate([codes, check[:, None]], axis=1)]
    out: Str = chars[:, 0]
    for column in range(1, 18):
        out = np.strings.add(out, chars[:, column])
    return out


def _emails(rng: np.random.Generator, pinyin: Str, birth: I64) -> Str:
    """Distinct e-mail addresses: name pinyin plus year or digits at a common provider, or QQ."""
    n = len(pinyin)
    year = ymd(birth)[0]
    mode = rng.choice(4, size=n, p=[0.2, 0.25, 0.15, 0.4])
    suffix = np.select(
        [mode == 1, mode == 2, mode == 3],
        [_num(year), np.char.zfill(_num(year % 100), 2), _num(rng.integers(1, 10_000, n))],
        default="",
    )
    local = np.strings.add(pinyin, suffix)
    qq = rng.random(n) < 0.25
    local = np.where(qq, _num(rng.integers(10_000_000, 3_999_999_999, n)), local)
    domain = np.where(qq, "qq.com", _DOMAINS[rng.integers(0, len(_DOMAINS), n)])
    emails = _concat(local, "@", domain)
    for _ in range(200):
        redo = ~first_occurrence(emails)
        count = int(redo.sum())
        if count == 0:
            return emails
        # Collisions get a longer random number, as a provider would force on sign-up.
        digits6 = _num(rng.integers(100_000, 10_000_000, count))
        emails[redo] = _concat(pinyin[redo], digits6, "@", domain[redo])
    raise RuntimeError("could not make e-mail addresses distinct")


def addresses(rng: np.random.Generator, city: I64, is_company: Bool) -> Str:
    """Distinct street addresses in the customer's city (homes: unit and flat; firms: floor)."""
    n = len(city)
    fields = np.empty((n, 7), dtype=np.int64)
    highs = np.array([1, len(_ROADS), 399, 40, 6, 33, 4], dtype=np.int64)

    def draw_rows(rows: I64) -> None:
        k = len(rows)
        fields[rows, 0] = pick_in_groups(rng, DISTRICT_STARTS, DISTRICT_COUNTS, city[rows])
        for column in range(1, 7):
            fields[rows, column] = rng.integers(0, highs[column], k)

    draw_rows(as_i64(np.arange(n)))
    for _ in range(200):
        code = fields[:, 0]
        for column in range(1, 7):
            code = code * (highs[column] + 1) + fields[:, column]
        code = code * 2 + is_company
        redo = ~first_occurrence(as_i64(code))
        if not redo.any():
            break
        draw_rows(as_i64(np.flatnonzero(redo)))
    home = _concat(
        _num(fields[:, 4] + 1),
        "单元",
        _num((fields[:, 5] + 1) * 100 + fields[:, 6] + 1),
        "室",
    )
    office = np.strings.add(_num(fields[:, 5] + 1), "层")
    return _concat(
        CITY_NAMES[city],
        "市",
        DISTRICTS[fields[:, 0]],
        _ROADS[fields[:, 1]],
        _num(fields[:, 2] + 1),
        "号",
        _num(fields[:, 3] + 1),
        "栋",
        np.where(is_company, office, home),
    )


def _branches(rng: np.random.Generator, city: I64) -> tuple[I64, I64, Branches]:
    """Branches in every city that has customers, RMs per branch; each customer's branch and RM."""
    n_cities = len(CITY_NAMES)
    per_city = np.bincount(city, minlength=n_cities)
    branches_per_city = as_i64(np.where(per_city > 0, -(-per_city // CUSTOMERS_PER_BRANCH), 0))
    branch_start = group_starts(branches_per_city)
    branch = pick_in_groups(rng, branch_start, branches_per_city, city)
    branch_city = as_i64(np.repeat(np.arange(n_cities), branches_per_city))
    per_branch = np.bincount(branch, minlength=len(branch_city))
    rms_per_branch = as_i64(np.maximum(1, -(-per_branch // CUSTOMERS_PER_RM)))
    rm = pick_in_groups(rng, group_starts(rms_per_branch), rms_per_branch, branch)
    rm_branch = as_i64(np.repeat(np.arange(len(branch_city)), rms_per_branch))
    rm_gender = as_i64(rng.integers(0, 2, len(rm_branch)))
    rm_name, _ = person_names(rng, rm_gender)
    return branch, rm, Branches(city=branch_city, rm_branch=rm_branch, rm_name=rm_name)


def generate_people(
    rng: np.random.Generator, community_city: I64, community_of: I64
) -> tuple[People, Branches]:
    """All customer attributes; customers mostly live in their community's city."""
    n = len(community_of)
    is_company = rng.random(n) < COMPANY_SHARE
    moved = rng.random(n) < 0.08
    city = as_i64(
        np.where(
            moved,
            weighted_index(rng, np.cumsum(CITY_WEIGHTS), n),
            community_city[community_of],
        )
    )
    gender = as_i64(np.where(is_company, -1, rng.integers(0, 2, n)))

    band = weighted_index(rng, _AGE_CUM, n)
    age = _AGE_EDGES[band] + rng.random(n) * (_AGE_EDGES[band + 1] - _AGE_EDGES[band])
    founded_years = 1.0 + rng.random(n) * 29.0
    birth = as_i64(REF_DAY - np.round(np.where(is_company, founded_years, age) * YEAR_DAYS))

    person_name, pinyin = person_names(rng, gender)
    name = np.where(is_company, company_names(rng, city), person_name)

    branch, rm, branches = _branches(rng, city)

    # Value: log-normal bulk plus a Pareto tail of wealthy clients, so tiers are meaningful.
    aum = np.where(
        is_company,
        600_000.0 * np.exp(1.9 * rng.standard_normal(n)),
        30_000.0 * np.exp(1.6 * rng.standard_normal(n)),
    )
    wealthy = rng.random(n) < 0.015
    aum = np.where(wealthy, aum + 1_000_000.0 * (1.0 - rng.random(n)) ** (-1.0 / 1.3), aum)
    aum_cents = as_i64(np.clip(np.round(aum * 100.0), 0, 10**12))
    risk_rating = as_i64(weighted_index(rng, _RISK_CUM, n) + 1)
    consent = rng.random(n) < 0.7

    # Lifecycle: ~7% joined in the last 90 days; activity bands give active, cooling, churn-risk
    # and dormant customers; nobody is active before joining or joins before adulthood.
    new = rng.random(n) < 0.07
    joined_ago = np.where(new, rng.random(n) * 90, 90 + rng.random(n) ** 1.3 * 5_400)
    earliest = np.where(is_company, birth, birth + np.round(18 * YEAR_DAYS).astype(np.int64) + 1)
    onboarded = as_i64(
        np.minimum(np.maximum(REF_DAY - joined_ago.astype(np.int64), earliest), REF_DAY)
    )
    activity = weighted_index(rng, _INACTIVE_CUM, n)
    inactive = _INACTIVE_LOW[activity] + (
        rng.random(n) * (_INACTIVE_HIGH[activity] - _INACTIVE_LOW[activity] + 1)
    ).astype(np.int64)
    last_active = as_i64(np.maximum(REF_DAY - inactive, onboarded))

    persons = np.flatnonzero(~is_company)
    companies = np.flatnonzero(is_company)
    phone = np.zeros(n, dtype=np.int64)
    has_phone = persons[rng.random(len(persons)) < 0.98]
    phone[has_phone] = _phones(rng, len(has_phone))

    id_number = np.zeros(n, dtype="<U18")
    id_number[persons] = _id_numbers(rng, city[persons], birth[persons], gender[persons])
    id_number[companies] = _credit_codes(rng, city[companies])

    email = np.zeros(n, dtype="<U64")
    has_email = persons[rng.random(len(persons)) < 0.55]
    email[has_email] = _emails(rng, pinyin[has_email], birth[has_email])

    has_device = rng.random(n) < np.where(is_company, 0.3, 0.85)
    has_second = has_device & (rng.random(n) < 0.15)
    device_values = new_devices(
        rng, int(has_device.sum() + has_second.sum()), np.zeros(0, np.int64)
    )
    device1 = np.full(n, -1, dtype=np.int64)
    device2 = np.full(n, -1, dtype=np.int64)
    n_first = int(has_device.sum())
    device1[has_device] = device_values[:n_first]
    device2[has_second] = device_values[n_first:]

    address = np.zeros(n, dtype="<U64")
    has_address = rng.random(n) < np.where(is_company, 0.85, 0.6)
    address[has_address] = addresses(rng, city[has_address], is_company[has_address])

    people = People(
        n=n,
        is_company=is_company,
        gender=gender,
        birth=birth,
        name=name,
        city=city,
        branch=branch,
        rm=rm,
        aum_cents=aum_cents,
        risk_rating=risk_rating,
        consent=consent,
        onboarded=onboarded,
        last_active=last_active,
        phone=phone,
        id_number=id_number,
        email=email,
        device1=device1,
        device2=device2,
        address=address,
    )
    return people, branches
