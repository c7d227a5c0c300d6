"""Offer negotiator: draft a compliant offer letter, route it to exactly the approvers policy requires,
attach the approved letter in iCIMS, and answer counter-offers within policy.

Rooms: `state` (schemas, version, thread key), `deps`, `nodes` (load, draft, route, approve, audit),
`counter` (counter-offers), `letters` (render and write), `review` (approval text and decisions),
`graph` (wiring), `run` (start / counter / resume / view), `events` (the status-change trigger),
`kind` (the declaration the service registers). Domain logic lives in `agents.offer`.
"""

from graphs.offer.deps import OfferDeps
from graphs.offer.graph import build_graph
from graphs.offer.nodes import candidate_from_person
from graphs.offer.review import (
    build_approval_request,
    build_counter_request,
    decide_approval,
    decide_counter,
    validate_decision,
)
from graphs.offer.run import OfferRun, counter_offer, offer_view, resume_offer, start_offer
from graphs.offer.state import (
    APPROVAL_ACTION,
    COUNTER_ACTION,
    GRAPH_VERSION,
    THREAD,
    CounterInput,
    EditedCounter,
    EditedOffer,
    OfferBusy,
    OfferError,
    OfferInput,
    OfferOutput,
    OfferStart,
    OfferState,
    offer_thread_id,
)

__all__ = [
    "APPROVAL_ACTION",
    "COUNTER_ACTION",
    "GRAPH_VERSION",
    "THREAD",
    "CounterInput",
    "EditedCounter",
    "EditedOffer",
    "OfferBusy",
    "OfferDeps",
    "OfferError",
    "OfferInput",
    "OfferOutput",
    "OfferRun",
    "OfferStart",
    "OfferState",
    "build_approval_request",
    "build_counter_request",
    "build_graph",
    "candidate_from_person",
    "counter_offer",
    "decide_approval",
    "decide_counter",
    "offer_thread_id",
    "offer_view",
    "resume_offer",
    "start_offer",
    "validate_decision",
]
