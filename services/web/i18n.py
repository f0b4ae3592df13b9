"""The front's languages: Finnish first, English too. Messages are gettext catalogues (Babel)
kept as .po files under ``locale/<language>/LC_MESSAGES/``, read when the front starts (no
compile step); the words of a page are English in the templates and translated from there.
Dates and times are Lahti's local time, money is euros, each in the language's format.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from markupsafe import Markup

from contracts.personal import ERASED
from domain.calendar import LOCAL_TIME

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("fi", "en")
DEFAULT = "fi"
# What each language is called in itself, for the switch on every page.
NAMES = {"fi": "Suomeksi", "en": "In English"}
LOCALES = {"fi": "fi_FI", "en": "en_GB"}

_current: ContextVar[str] = ContextVar("language", default=DEFAULT)


@cache
def translations(language: str) -> NullTranslations:
    """Every catalogue of ``language`` merged into one (English has none: it is the source)."""
    merged: NullTranslations | None = None
    for po in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            catalogue = read_po(f, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalogue)
        buffer.seek(0)
        one = Translations(buffer)
        if merged is None:
            merged = one
        else:
            merged.merge(one)
    return merged or NullTranslations()


def language() -> str:
    return _current.get()


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    token = _current.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def use(lang: str) -> None:
    """The language of the rest of this request's work (a page and its template)."""
    _current.set(lang if lang in LANGUAGES else DEFAULT)


def gettext(message: str) -> str:
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)


def _locale() -> Locale:
    return Locale.parse(LOCALES[language()])


def money(cents: int | None) -> str:
    """``123450`` -> ``1 234,50 €`` in Finnish, ``€1,234.50`` in English."""
    if cents is None:
        return ""
    return format_currency(cents / 100, "EUR", locale=_locale())


def number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return ""
    return format_decimal(round(value, digits), locale=_locale())


def local(moment: datetime | str | None) -> datetime | None:
    if moment is None or moment == "":
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(LOCAL_TIME)


def when(moment: datetime | str | None) -> str:
    """A moment in Lahti's time, as the language writes it: ``ke 2.12.2026 klo 12.00``."""
    at = local(moment)
    if at is None:
        return ""
    pattern = "EEE d.M.yyyy 'klo' H.mm" if language() == "fi" else "EEE d MMM yyyy, HH:mm"
    return format_datetime(at, pattern, locale=_locale(), tzinfo=LOCAL_TIME)


def day(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, "medium", locale=_locale())


def clock(moment: datetime | str | None) -> str:
    at = local(moment)
    return "" if at is None else format_time(at, "short", locale=_locale(), tzinfo=LOCAL_TIME)


def personal(value: object) -> object:
    """A resident's personal field as a page shows it: the services answer ``"[erased]"`` for
    one erased, which reads "erased" in the page's language."""
    if value == ERASED:
        return Markup('<em class="erased">%s</em>') % gettext("erased")
    return value
