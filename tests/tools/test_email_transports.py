"""Email transports: the local outbox (one file per message id, index without addresses) and SMTP
against a real aiosmtpd server on 127.0.0.1, including a nurture run sending through it once."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email import policy

import pytest
from aiosmtpd.controller import Controller
from support.nurture import AS_OF, CAMPAIGN_ID, ELIGIBLE, campaign, scenario

from graphs.nurture import NurtureDeps, build_graph, resume_run, start_run
from tools.checkpoint import open_checkpointer
from tools.email import LocalOutbox, OutgoingEmail, SMTPTransport, TransportError, make_transport
from tools.embeddings import HashEmbeddings

LINK = "http://127.0.0.1:8000/nurture/unsubscribe?token=" + "a" * 120


def message(n: int = 1) -> OutgoingEmail:
    return OutgoingEmail(
        message_id=f"<nurture.1000.c.{n}.0@example.com>",
        from_address="talent@example.com",
        from_name="Jordan Lee, Example Corp",
        to_address=f"person{n}@candidates.example",
        subject="Our Data Engineer opening",
        body=f"Hi,\n\nA note.\n\nUnsubscribe: {LINK}\n",
        unsubscribe_url=LINK,
        sent_at=AS_OF.isoformat(),
        tags={"campaign": "c", "person": str(n), "step": "0", "run": "r"},
    )


class Collect:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Collect, int]]:
    handler = Collect()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()  # returns once the server answers
    try:
        yield handler, port
    finally:
        controller.stop()


def test_outbox_writes_each_message_once_and_indexes_ids_only(tmp_path):
    box = LocalOutbox(tmp_path / "outbox")
    first = box.send(message())
    again = box.send(message())
    assert not first.already_sent and again.already_sent and first.location == again.location
    assert box.has(message().message_id) and not box.has("<other@example.com>")
    [row] = box.index()
    assert row["message_id"] == message().message_id and row["person"] == "1"
    assert "candidates.example" not in str(row)  # no address in the index
    parsed = email.message_from_bytes(box.read(message().message_id), policy=policy.default)
    assert parsed["List-Unsubscribe"] == f"<{LINK}>"  # not folded into encoded words
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["X-Nurture-Campaign"] == "c"


def test_smtp_transport_hands_the_message_to_the_relay(smtp, tmp_path):
    handler, port = smtp
    transport = SMTPTransport("127.0.0.1", port, timeout=5)
    receipt = transport.send(message(2))
    assert receipt.transport == "smtp" and not transport.has(receipt.message_id)
    [(sender, rcpts, content)] = handler.messages
    assert sender == "talent@example.com" and rcpts == ["person2@candidates.example"]
    parsed = email.message_from_bytes(content, policy=policy.default)
    assert parsed["Message-ID"] == message(2).message_id and parsed["List-Unsubscribe"] == f"<{LINK}>"
    with pytest.raises(TransportError, match="refused"):
        SMTPTransport("127.0.0.1", _free_port(), timeout=2).send(message(3))


def test_transport_is_chosen_by_settings(tmp_path):
    from tools.settings import Settings

    assert isinstance(make_transport(Settings(_env_file=None, data_dir=tmp_path)), LocalOutbox)
    chosen = make_transport(
        Settings(_env_file=None, email_transport="smtp", smtp_host="127.0.0.1", smtp_port=2525)
    )
    assert isinstance(chosen, SMTPTransport) and chosen.port == 2525


@pytest.mark.integration
def test_nurture_run_sends_through_smtp_once(smtp, sandbox_factory, tmp_path):
    handler, port = smtp
    with scenario(
        sandbox_factory, tmp_path, email_transport="smtp", smtp_host="127.0.0.1", smtp_port=port
    ) as sc:
        deps = NurtureDeps.from_settings(sc.settings, embeddings=HashEmbeddings(), clock=lambda: AS_OF)
        assert isinstance(deps.transport, SMTPTransport)
        deps.store.save_campaign(campaign(sc.pools))
        with open_checkpointer(sc.settings) as saver:
            graph = build_graph(saver, deps=deps)
            thread, _ = start_run(graph, customer_id=1000, campaign_id=CAMPAIGN_ID, run_id="s1", as_of=AS_OF)
            values = resume_run(graph, thread, [{"type": "accept"}], approver="t")
            sent = [s for s in values["sends"] if s["status"] == "sent"]
            assert len(sent) == len(handler.messages) >= len(ELIGIBLE)
            # The same run resumed again (a retried job) and a new run: no second message.
            graph.invoke(None, {"configurable": {"thread_id": thread}}, version="v2")
            start_run(graph, customer_id=1000, campaign_id=CAMPAIGN_ID, run_id="s2", as_of=AS_OF)
            assert len(handler.messages) == len(sent)
        deps.close()
