"""A real IMAP server for the touchpoints tests (Debian's dovecot) on a free local port.

The server runs from a throwaway directory with a minimal configuration: one passwd-file user with
a plain password, maildir storage, a "Sent" folder marked \\Sent (RFC 6154) as mail providers
mark theirs, no SSL, listening on 127.0.0.1 only. It works as a normal user
(every dovecot process runs as that user) and as root (CI): dovecot refuses to run its login
processes or to open mail as root, so then the login processes run as `dovenull`, the internal ones
as `dovecot` and the mail as `nobody`, which owns the maildir. Messages are delivered with IMAP
APPEND, as a mail server's delivery agent would store them.
"""

from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vinculo.accounts.testing import free_port
from vinculo.touchpoints.services.mailboxes import imap_utf7

DOVECOT = "/usr/sbin/dovecot"
INSTALL_DOVECOT = "apt-get install -y dovecot-imapd"  # the Makefile's `test` target runs it as root
IMAP_USER = "ana@example.com"
IMAP_PASSWORD = "imap pässword 42"  # not ASCII on purpose: the login must send it as UTF-8


@dataclass
class ImapServer:
    """A running dovecot: where it listens, its one account, and helpers to deliver mail."""

    host: str
    port: int
    user: str
    password: str
    root: Path

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        # AUTHENTICATE PLAIN sends the password base64-encoded as UTF-8 (LOGIN takes ASCII only)
        imap.authenticate("PLAIN", lambda _challenge: f"\0{self.user}\0{self.password}".encode())
        return imap

    def deliver(self, raw: bytes | str, folder: str = "INBOX") -> int:
        """Store one message in `folder` (created if missing); returns its UID."""
        data = raw.encode() if isinstance(raw, str) else raw
        folder = '"' + imap_utf7(folder) + '"'
        imap = self.connect()
        try:
            imap.create(folder)  # "already exists" for INBOX and known folders: fine
            status, response = imap.append(folder, None, None, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert status == "OK", response
            # [APPENDUID <uidvalidity> <uid>]
            text = response[0].decode() if isinstance(response[0], bytes) else str(response[0])
            return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])
        finally:
            imap.logout()

    def messages(self, folder: str) -> list[tuple[bytes, bytes]]:
        """Every message of `folder`, in order: (its flags, as the server lists them; its bytes)."""
        imap = self.connect()
        try:
            status, _data = imap.select('"' + imap_utf7(folder) + '"', readonly=True)
            assert status == "OK", _data
            status, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
            assert status == "OK", data
            found = []
            for item in data:
                if isinstance(item, tuple):
                    head = item[0]
                    flags = head.split(b"FLAGS (", 1)[1].split(b")", 1)[0] if b"FLAGS (" in head else b""
                    found.append((flags, bytes(item[1])))
            return found
        finally:
            imap.logout()

    def logins(self, *, at_least: int = 0, timeout: float = 10) -> int:
        """How many logins the server's log shows, once it shows `at_least` (dovecot writes its log
        through a separate process, a moment after the login answered)."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.root / "dovecot.log"
            count = log.read_text().count("Login: user=") if log.exists() else 0
            if count >= at_least or time.monotonic() > deadline:
                return count
            time.sleep(0.05)

    def recreate_folder(self, folder: str) -> None:
        """Delete and create `folder` again: its UIDVALIDITY changes and its UIDs start over."""
        imap = self.connect()
        try:
            imap.delete(folder)
            time.sleep(1.1)  # dovecot derives UIDVALIDITY from the clock: make sure it moves on
            imap.create(folder)
        finally:
            imap.logout()


def _write_config(root: Path, port: int) -> Path:
    as_root = os.geteuid() == 0
    me = getpass.getuser()
    if as_root:
        internal, login, mail_user = "dovecot", "dovenull", "nobody"
    else:
        internal = login = mail_user = me
    mail_uid = pwd.getpwnam(mail_user).pw_uid
    mail_gid = pwd.getpwnam(mail_user).pw_gid
    mail_dir = root / "mail"
    mail_dir.mkdir()
    if as_root:
        os.chown(mail_dir, mail_uid, mail_gid)
    users = root / "users"
    users.write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::::\n", encoding="utf-8")
    users.chmod(0o644)
    (root / "state").mkdir()
    config = root / "dovecot.conf"
    config.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# a refused login answers at once (the default waits 2 s, a brute-force brake a test does not need)
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = {min(mail_uid, 1)}
first_valid_gid = 0
mail_uid = {mail_uid}
mail_gid = {mail_gid}
mail_location = maildir:{mail_dir}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
  default_fields = home={mail_dir}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
""",
        encoding="utf-8",
    )
    config.chmod(0o644)
    return config


def _wait_until_listening(server: ImapServer, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            server.connect().logout()
            return
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    raise RuntimeError(f"dovecot did not answer: {log.read_text() if log.exists() else ''}")


def _stop(process: subprocess.Popen[bytes], root: Path) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    if process.stderr is not None:
        process.stderr.close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecots_stopping() -> Iterator[list[threading.Thread]]:
    """Dovecot takes about a second to stop: each test's server stops in a thread while the next
    tests run, and the session waits for every one of them at its end."""
    stopping: list[threading.Thread] = []
    yield stopping
    for thread in stopping:
        thread.join(timeout=30)


@pytest.fixture
def imap_server(dovecots_stopping: list[threading.Thread]) -> Iterator[ImapServer]:
    """A dovecot IMAP server on a free port of 127.0.0.1, with one account (IMAP_USER)."""
    if not os.path.exists(DOVECOT):
        pytest.fail(f"{DOVECOT} not found: the mailbox tests need a real IMAP server; run: {INSTALL_DOVECOT}")
    # a short path in /tmp: unix socket paths are limited to 108 bytes, and as root the dovecot and
    # dovenull users must be able to reach the files (pytest's tmp_path is private to the owner)
    root = Path(tempfile.mkdtemp(prefix="vinculo-imap-", dir="/tmp"))
    root.chmod(0o755)
    port = free_port()
    config = _write_config(root, port)
    check = subprocess.run([DOVECOT, "-n", "-c", str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = ImapServer(host="127.0.0.1", port=port, user=IMAP_USER, password=IMAP_PASSWORD, root=root)
    try:
        _wait_until_listening(server, process, root / "dovecot.log")
        yield server
    finally:
        stopping = threading.Thread(target=_stop, args=(process, root), name=f"stop dovecot {port}")
        stopping.start()
        dovecots_stopping.append(stopping)
