"""The Simplified Chinese catalogue (locale/zh_Hans): complete, compiled, and actually served.

Regenerate with scripts/messages (makemessages + compilemessages), then fill in any empty msgstr.
"""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"\s*$')
_CONTINUATION = re.compile(r'^"(.*)"\s*$')
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
# Python %-format placeholders: %(name)s, %(n)d, and the literal %%.
_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: {"flags": set, "msgctxt", "msgid", "msgid_plural", "msgstr": {index: text}}.

    Obsolete entries (#~) are ignored. The header (msgid "") is included.
    """
    entries: list[dict] = []
    entry: dict | None = None
    field: tuple[str, int | None] | None = None

    def new_entry() -> dict:
        return {"flags": set(), "msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            entry, field = None, None
            continue
        if line.startswith("#"):
            if line.startswith("#,"):
                if entry is None or entry["msgid"] is not None:
                    entry = new_entry()
                    entries.append(entry)
                entry["flags"].update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if match := _KEYWORD.match(line):
            keyword, text = match.group(1), _unescape(match.group(2))
            if entry is None or (keyword in ("msgid", "msgctxt") and entry["msgid"] is not None):
                entry = new_entry()
                entries.append(entry)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if "[" in keyword else 0
                entry["msgstr"][index] = text
                field = ("msgstr", index)
            else:
                entry[keyword] = text
                field = (keyword, None)
            continue
        if (match := _CONTINUATION.match(line)) and entry is not None and field is not None:
            name, index = field
            if name == "msgstr":
                entry["msgstr"][index] += _unescape(match.group(1))
            else:
                entry[name] += _unescape(match.group(1))
            continue
        raise AssertionError(f"{path}: cannot parse line {raw!r}")
    return entries


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    assert PO.exists(), f"{PO} is missing: run scripts/messages"
    return [e for e in parse_po(PO) if e["msgid"] is not None]


@pytest.fixture(scope="module")
def messages(entries) -> list[dict]:
    return [e for e in entries if e["msgid"] != ""]


def _label(entry: dict) -> str:
    return repr(entry["msgid"]) + (f" (context {entry['msgctxt']!r})" if entry["msgctxt"] else "")


def test_header_declares_one_plural_form(entries):
    header = next(e for e in entries if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][0]
    assert "charset=UTF-8" in header["msgstr"][0]


def test_every_message_is_translated_and_none_is_fuzzy(messages):
    assert len(messages) > 100
    fuzzy = [_label(e) for e in messages if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy entries (check the translation, then remove the flag): {fuzzy}"
    untranslated = [_label(e) for e in messages if not e["msgstr"] or not all(s.strip() for s in e["msgstr"].values())]
    assert not untranslated, f"untranslated entries: {untranslated}"


def test_plural_entries_have_exactly_one_form(messages):
    wrong = [_label(e) for e in messages if e["msgid_plural"] is not None and sorted(e["msgstr"]) != [0]]
    assert not wrong, f"plural entries must have only msgstr[0] (nplurals=1): {wrong}"


def test_translations_keep_their_placeholders(messages):
    wrong = []
    for e in messages:
        expected = sorted(_PLACEHOLDER.findall(e["msgid"]))
        if e["msgid_plural"] is not None:
            expected = sorted(set(expected) | set(_PLACEHOLDER.findall(e["msgid_plural"])))
            got = [sorted(set(_PLACEHOLDER.findall(s))) for s in e["msgstr"].values()]
        else:
            got = [sorted(_PLACEHOLDER.findall(s)) for s in e["msgstr"].values()]
        if any(g != expected for g in got):
            wrong.append(_label(e))
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


def _catalog(mo_path: Path) -> dict:
    with mo_path.open("rb") as fh:
        return dict(gettext.GNUTranslations(fh)._catalog)


def test_compiled_catalogue_matches_the_po(tmp_path):
    """django.mo must be compiled from the current django.po (run scripts/messages after editing it)."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed, so the .po cannot be compiled for comparison")
    assert MO.exists(), f"{MO} is missing: run scripts/messages"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(PO)], check=True, capture_output=True)
    committed, expected = _catalog(MO), _catalog(fresh)
    stale = sorted(str(k) for k in expected.keys() ^ committed.keys())
    stale += sorted(str(k) for k in expected.keys() & committed.keys() if expected[k] != committed[k])
    assert not stale, f"django.mo is out of date with django.po (run scripts/messages): {stale[:20]}"


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        # Browser tests click these labels, so they must be exactly these words.
        ("My enterprise", "我的企业"),
        ("Import", "导入"),
        ("Home", "首页"),
        ("Enterprise registry", "企业库"),
        ("Innovation points", "创新积分"),
        ("Scoring standards", "评分标准"),
        ("Audit trail", "审计记录"),
        ("API tokens", "API令牌"),
        ("Log in", "登录"),
        ("Simulation only, nothing is saved", "仅模拟，不保存"),
    ],
)
def test_key_terms(msgid, expected):
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == expected


def test_plural_is_served():
    with translation.override("zh-hans"):
        assert translation.ngettext("%(n)s enterprise", "%(n)s enterprises", 3) % {"n": 3} == "3 家企业"


@pytest.mark.django_db
def test_home_page_is_chinese_by_default(client):
    page = client.get("/").content.decode()
    assert "首页" in page
    assert "登录" in page
    assert "西部科学城双城服务平台" in page


@pytest.mark.django_db
def test_home_page_switches_to_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/").content.decode()
    assert "Home" in page
    assert "Log in" in page
    assert "首页" not in page
