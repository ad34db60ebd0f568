"""One meeting across two hosts: `podium serve` (control plane and worker "local") in a network
namespace of its own, and a worker on another host (`podium engine`, worker "remote", in this
namespace, on its own address of the veth pair). With --worker-capacity 2 the third participant
spills onto "remote"; the pipe between the two workers crosses hosts, so it is SRTP with the keys the
control plane made, and every aiortc participant (in this namespace) decodes every other."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import time

import aioice
import pytest
from media import NumberedVideoTrack, ToneAudioTrack
from netns import Namespace, namespace
from podium_client import Api, Participant, PodiumServer

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def hosts(tmp_path):
    secret = secrets.token_urlsafe(24)
    with namespace() as ns:
        server = PodiumServer.start(
            tmp_path / "podium",
            host=ns.address,
            prefix=ns.exec,
            engine_secret=secret,
            options=("--worker-capacity", "2"),
        )
        log = (tmp_path / "remote.log").open("wb")
        remote = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "podium.cli",
                "engine",
                "--control",
                server.channel_url,
                "--bind",
                ns.peer,
                "--worker-id",
                "remote",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PODIUM_ENGINE_SECRET": secret},
        )
        try:
            deadline = time.monotonic() + 20
            while server.connected_workers() < 2:
                assert remote.poll() is None and time.monotonic() < deadline, (tmp_path / "remote.log").read_text()
                time.sleep(0.2)
            yield server, ns
        finally:
            remote.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                remote.wait(5)
            log.close()
            server.stop()


async def test_a_meeting_spanning_two_hosts_over_an_srtp_pipe(hosts, monkeypatch) -> None:
    podium, ns = hosts
    ns: Namespace
    # aiortc gathers this side's veth address only: it reaches "local" across the pair, "remote" here
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: [ns.peer])
    api = Api(podium.url)
    await api.login_admin()
    room = await api.create_room("Two hosts")
    people: list[Participant] = [await Participant.join(podium, api.token, room["id"])]
    try:
        for n in (1, 2):
            user_id, token = await api.create_user(f"host-{n}")
            await api.grant(room["id"], user_id)
            people.append(await Participant.join(podium, token, room["id"]))
        for n, p in enumerate(people):
            await p.publish(microphone=ToneAudioTrack(300 + 200 * n), camera=NumberedVideoTrack())
        meeting = await api.call("GET", f"/meetings/{people[0].joined['meeting_id']}")
        assert sorted(meeting["workers"]) == ["local", "remote"]
        for receiver in people:
            for sender in people:
                if sender is not receiver:
                    assert await receiver.frames_grow(sender.id, "camera", timeout=20), (receiver.id, sender.id)
                    assert await receiver.frames_grow(sender.id, "microphone", timeout=20), (receiver.id, sender.id)
        # the pipe crosses hosts: SRTP, both ends
        log = podium.log.read_text()
        assert f"engine worker local: pipe to worker remote at {ns.peer} port" in log
        assert f"engine worker remote: pipe to worker local at {ns.address} port" in log
        assert log.count("SRTP (AEAD_AES_128_GCM)") == 2 and "plain RTP" not in log
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()
