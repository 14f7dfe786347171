"""The Spanish catalogue is complete, well-formed, compiled and up to date with the code.

Needs GNU gettext (msgfmt, xgettext, msgmerge): `apt-get install gettext`. `make messages`
re-extracts and recompiles; these tests say what to do when they fail.
"""

from __future__ import annotations

import gettext
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
PO_PATH = LOCALE_DIR / "es" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
REPO = Path(settings.BASE_DIR)
FIX = "run `make messages`, translate what it added in vinculo/locale/es/LC_MESSAGES/django.po, run it again"


# --- a small .po reader (no third-party dependency) ---------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header included (msgid "")."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line or line.startswith("#"):
                continue
        elif line.startswith("#,"):
            if started:
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        elif line.startswith("#"):
            if started:
                finish()
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, text = match.groups()
            if keyword in ("msgctxt", "msgid") and target is not None and target[0].startswith("msgstr"):
                finish()  # a new entry without a blank line before it
            started = True
            if keyword.startswith("msgstr"):
                position = int(index or 0)
                while len(entry.msgstr) <= position:
                    entry.msgstr.append("")
                target = ("msgstr", position)
            else:
                target = (keyword, 0)
                setattr(entry, keyword, "")
            _append(entry, target, _unescape(text))
        elif line.startswith('"') and line.endswith('"') and target is not None:
            _append(entry, target, _unescape(line[1:-1]))
        else:
            raise ValueError(f"{path}: cannot read line {raw!r}")
    finish()
    return entries


def _append(entry: Entry, target: tuple[str, int], text: str) -> None:
    name, position = target
    if name == "msgstr":
        entry.msgstr[position] += text
    else:
        setattr(entry, name, (getattr(entry, name) or "") + text)


def header(entries: list[Entry]) -> dict[str, str]:
    first = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    return dict(line.split(":", 1) for line in first.msgstr[0].splitlines() if ":" in line)


def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid != "" or e.msgctxt is not None]


PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGco%]")


def placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


# --- fixtures -------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"GNU gettext's `{name}` is not installed: the translation checks need it "
            "(Debian/Ubuntu: apt-get install gettext; macOS: brew install gettext)."
        )
    return path


@pytest.fixture(scope="module")
def msgfmt() -> str:
    return _tool("msgfmt")


@pytest.fixture(scope="module")
def po() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: {FIX}"
    return read_po(PO_PATH)


# --- the catalogue --------------------------------------------------------------------------------


def test_header_declares_spanish_utf8_and_two_plural_forms(po):
    meta = {key.strip(): value.strip() for key, value in header(po).items()}
    assert meta["Language"] == "es"
    assert meta["Content-Type"] == "text/plain; charset=UTF-8"
    assert meta["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


def test_every_message_is_translated_and_none_is_fuzzy_or_obsolete(po):
    entries = messages(po)
    assert len(entries) > 400  # the reader found the catalogue, not an empty file
    untranslated = [e.msgid for e in entries if not e.msgstr or not all(s.strip() for s in e.msgstr)]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    obsolete = [e.msgid for e in entries if e.obsolete]
    assert not untranslated, f"untranslated ({FIX}): {untranslated}"
    assert not fuzzy, f"fuzzy: check each translation, then remove its '#, fuzzy' line: {fuzzy}"
    assert not obsolete, f"obsolete entries: {FIX}: {obsolete}"
    plural_forms = {len(e.msgstr) for e in entries if e.msgid_plural is not None}
    assert plural_forms <= {2}, "plural entries need msgstr[0] and msgstr[1]"


def test_translations_keep_every_placeholder(po):
    """%(name)s, %s… (and {{ var }} of blocktranslate, which the catalogue holds as %(var)s)."""
    wrong = []
    for entry in messages(po):
        if "python-format" not in entry.flags:
            if any("{{" in s or "{%" in s for s in entry.msgstr):
                wrong.append((entry.msgid, entry.msgstr))
            continue
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid_plural] * len(entry.msgstr)
        if entry.msgid_plural is not None:
            sources[0] = entry.msgid
        for source, translation in zip(sources, entry.msgstr, strict=False):
            if placeholders(source) != placeholders(translation):
                wrong.append((source, translation))
            if "{{" in translation or "{%" in translation:
                wrong.append((source, translation))
    assert not wrong


def test_msgfmt_accepts_the_catalogue(msgfmt, tmp_path):
    """`--check` covers the header, plural forms and python-format directives."""
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO_PATH)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr  # no fuzzy, no untranslated


def test_committed_mo_is_compiled_from_the_committed_po(msgfmt, tmp_path):
    """A fresh install uses the committed .mo without gettext; it must say what the .po says."""
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run `make messages`"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(PO_PATH)], check=True)
    with MO_PATH.open("rb") as committed, fresh.open("rb") as compiled:
        committed_catalog = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
        compiled_catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    assert committed_catalog == compiled_catalog, "the .mo is stale: run `make messages`"


def _makemessages_flags() -> list[str]:
    """The extraction options of `make messages`, read from the Makefile so the two never differ."""
    makefile = (REPO / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^MAKEMESSAGES_FLAGS\s*:?=(.*)$", makefile, re.MULTILINE)
    assert match, "the Makefile defines MAKEMESSAGES_FLAGS for `make messages`"
    return shlex.split(match.group(1))


def _copy_ignore(directory: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n.startswith(".") or n in {"__pycache__", "var", "node_modules", "test-results"}}
    skipped |= {n for n in names if n.endswith((".egg-info", ".mo", ".sqlite3"))}
    if Path(directory).resolve() == (REPO / "vinculo" / "static").resolve():
        skipped.add("vendor")
    return skipped


def test_catalogue_is_up_to_date_with_the_code(po, tmp_path):
    """`make messages` on a copy of the working tree finds exactly the messages of the .po.

    A copy, so that makemessages' temporary files and its rewritten .po never touch the
    real tree; the copy's settings point LOCALE_PATHS at the copy's vinculo/locale.
    """
    for tool in ("xgettext", "msgmerge", "msguniq", "msgattrib"):
        _tool(tool)
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=_copy_ignore)
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "translation-test",
        "VINCULO_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'unused.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", *_makemessages_flags()],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    regenerated = {e.key for e in messages(read_po(copy / PO_PATH.relative_to(REPO)))}
    committed = {e.key for e in messages(po)}
    missing = sorted(k[1] for k in regenerated - committed)
    gone = sorted(k[1] for k in committed - regenerated)
    assert not missing, f"messages in the code but not in the catalogue ({FIX}): {missing}"
    assert not gone, f"messages in the catalogue no longer in the code ({FIX}): {gone}"


# --- what a visitor sees --------------------------------------------------------------------------


def test_login_page_in_spanish_from_the_language_cookie(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = client.get(reverse("accounts:login"))
    content = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es"' in content
    assert '<h1 class="h4 mb-3">Iniciar sesión</h1>' in content
    assert "<title>Iniciar sesión · Vínculo</title>" in content
    assert "¿Eres nuevo en Vínculo?" in content
    assert ">Crea una cuenta</a>" in content
    assert ">Contraseña" in content  # a form label, translated in Python
    assert "Log in" not in content


def test_login_page_in_spanish_from_accept_language(client, db):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5")
    assert '<h1 class="h4 mb-3">Iniciar sesión</h1>' in response.content.decode()


def test_login_page_stays_english_by_default(client, db):
    response = client.get(reverse("accounts:login"))
    assert '<h1 class="h4 mb-3">Log in</h1>' in response.content.decode()
