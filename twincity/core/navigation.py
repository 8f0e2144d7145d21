"""The navigation bar as a registry: each domain registers its entries, each with the access predicate that
decides who sees it, so the bar shows exactly the pages a person may open and never restates a rule. An entry
may sit in a section (a menu of the bar, e.g. 科技金融): a section shows as a menu when a person may open two
or more of its pages, as the one link when only one, and not at all when none.

Domains register in their AppConfig.ready() (see e.g. twincity/enterprises/apps.py); the kernel imports none
of them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str  # a URL name (namespace:name) without arguments, or a path starting with "/"
    visible: Callable[..., bool]  # the access predicate of the page: visible(user) -> bool
    order: int = 100  # within its section
    section: str = ""  # the key of its section; "" for the bar itself


@dataclass(frozen=True)
class NavSection:
    key: str
    label: str | Promise
    order: int = 100  # among the bar's entries and sections


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    active: bool
    section: str = ""


@dataclass(frozen=True)
class NavMenu:
    """A section of the bar with two or more pages this person may open."""

    key: str
    label: str
    items: list[NavItem]
    active: bool


_ENTRIES: dict[str, NavEntry] = {}
_SECTIONS: dict[str, NavSection] = {}


def nav_section_register(section: NavSection) -> None:
    """Add (or replace, by key) a section of the navigation bar."""
    _SECTIONS[section.key] = section


def nav_register(entry: NavEntry) -> None:
    """Add (or replace, by key) an entry of the navigation bar."""
    _ENTRIES[entry.key] = entry


def nav_entries() -> list[NavEntry]:
    return sorted(_ENTRIES.values(), key=lambda entry: (entry.order, entry.key))


def _url(entry: NavEntry) -> str:
    return entry.url_name if entry.url_name.startswith("/") else reverse(entry.url_name)


def navigation_for(user, path: str) -> list[NavItem]:
    """The entries this person may open, in order; the one the path lies under is active."""
    items = [(entry, _url(entry)) for entry in nav_entries() if entry.visible(user)]
    # The longest matching URL is the active one ("/" matches only itself).
    best = max((url for _entry, url in items if path == url or (url != "/" and path.startswith(url))),
               key=len, default=None)
    return [NavItem(entry.key, str(entry.label), url, url == best, entry.section) for entry, url in items]


def navigation_bar(items: list[NavItem]) -> list[NavItem | NavMenu]:
    """`navigation_for`'s items as the bar shows them: entries outside a section, and each section as a menu of
    its items (or as its one item), ordered by the entries' and the sections' orders."""
    orders = {entry.key: entry.order for entry in _ENTRIES.values()}
    placed: list[tuple[int, NavItem | NavMenu]] = []
    by_section: dict[str, list[NavItem]] = {}
    for item in items:
        if item.section and item.section in _SECTIONS:
            by_section.setdefault(item.section, []).append(item)
        else:
            placed.append((orders.get(item.key, 100), item))
    for key, members in by_section.items():
        section = _SECTIONS[key]
        if len(members) == 1:
            placed.append((section.order, members[0]))
        else:
            placed.append((section.order, NavMenu(key, str(section.label), members,
                                                  any(item.active for item in members))))
    return [shown for _order, shown in sorted(placed, key=lambda pair: pair[0])]


# --- links from one object's page to the pages other domains keep about it ----------------------------------
# E.g. an enterprise's page links to its innovation points: the points domain registers that link, so the
# registry (a lower layer) never names the points pages.


@dataclass(frozen=True)
class ObjectLink:
    key: str
    label: str | Promise
    url: Callable[[Any], str]  # url(obj)
    visible: Callable[[Any, Any], bool]  # visible(user, obj): the access predicate of the linked page
    order: int = 100


_OBJECT_LINKS: dict[str, dict[str, ObjectLink]] = {}


def object_link_register(model_label: str, link: ObjectLink) -> None:
    """Add a link to the pages of objects of `model_label` ("app_label.model")."""
    _OBJECT_LINKS.setdefault(model_label, {})[link.key] = link


def object_links_for(user, obj) -> list[NavItem]:
    links = sorted(_OBJECT_LINKS.get(obj._meta.label_lower, {}).values(), key=lambda link: (link.order, link.key))
    return [NavItem(link.key, str(link.label), link.url(obj), False) for link in links if link.visible(user, obj)]


# --- the URLs of a list's rows --------------------------------------------------------------------------------

_SLOT = "twincity0slot"
# What reverse() leaves as it is in a path segment (it quotes anything else).
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]+")


def url_maker(url_name: str) -> Callable[[str], str]:
    """`reverse(url_name, args=[value])` for every row of a list at the cost of one reverse (a page of 25
    enterprises spent a tenth of its time reversing): for URL names whose one argument is a `<str:…>` segment.
    A value that reverse() would quote is reversed as it is."""
    pattern = reverse(url_name, args=[_SLOT])
    head, tail = pattern.split(_SLOT)

    def url(value: str) -> str:
        value = str(value)
        return head + value + tail if _PLAIN_SEGMENT.fullmatch(value) else reverse(url_name, args=[value])

    return url
