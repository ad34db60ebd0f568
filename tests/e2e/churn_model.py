"""The churn suite's model of a meeting: what each person publishes and has turned on, what the
moderator took away, who waits, whose network is cut; and from that, the media every participant
must receive. Plain data, no I/O: the suite applies each step to the real meeting and to this model,
then compares what the clients count with `flows`.

A person is one seat of the meeting (a user); the participant id the server gave them is the client's
business (it may change on a rejoin, or stay the same when a dropped socket resumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCES = ("microphone", "camera")
"""The sources the suite publishes; each needs the capability of the same name."""


@dataclass
class Person:
    """One seat of the model: whether the person is in the meeting, and what the policy knows of them."""

    present: bool = False
    waiting: bool = False
    """In the waiting room: nothing forwarded to or from them."""
    published: set[str] = field(default_factory=set)
    on: set[str] = field(default_factory=set)
    """Published sources switched on (the server's switch: an admission or a revoke turns them off)."""
    withheld: set[str] = field(default_factory=set)
    """Capabilities (= sources here) the person does not hold: revoked, or not given by the room."""
    cut: bool = False
    """Their media path is blocked: nothing reaches them, nothing of theirs reaches anyone."""

    def joined(self, capabilities: set[str], waiting: bool) -> None:
        """A (re)join: a new participant, with what the server said it holds, publishing nothing yet."""
        self.present, self.waiting = True, waiting
        self.published, self.on = set(), set()
        self.withheld = {source for source in SOURCES if source not in capabilities}

    def left(self) -> None:
        self.present, self.waiting, self.cut = False, False, False
        self.published, self.on = set(), set()

    def may_use(self, source: str) -> bool:
        return source not in self.withheld

    def sends(self, source: str) -> bool:
        """What the policy forwards: published, switched on, permitted, admitted, network up."""
        return (
            self.present
            and not self.waiting
            and not self.cut
            and source in self.published
            and source in self.on
            and self.may_use(source)
        )

    def receives(self) -> bool:
        return self.present and not self.waiting and not self.cut


def flows(people: list[Person]) -> set[tuple[int, int, str]]:
    """(receiver seat, sender seat, source) for every track that must arrive; every other track of a
    present sender at a present receiver must not."""
    return {
        (r, s, source)
        for r, receiver in enumerate(people)
        if receiver.receives()
        for s, sender in enumerate(people)
        if s != r
        for source in SOURCES
        if sender.sends(source)
    }
