"""Test helpers of the messaging layer: a mail server that answers from a script."""

from __future__ import annotations

from typing import Any

from vinculo.accounts.testing import MailSink


class ScriptedSink(MailSink):
    """A mail server that answers RCPT and DATA from a script, and notes each connection's port."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_rcpt: dict[str, str] = {}
        self.data_answers: list[str] = []
        self.peers: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_answers:
            return self.data_answers.pop(0)
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)
