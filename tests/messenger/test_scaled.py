"""The scaled homeserver: its generated configuration (nginx accepts it; every process is in
Synapse's instance map), and — under ``make scale-test`` — that nginx really routes by path:
with one kind of worker stopped exactly its requests fail and the rest keep working."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from messenger.deploy import scaled_config as cfg
from messenger.deploy.scaled import ScaledSynapse
from tests.support import client_api


def layout(synchrotrons: int = 2, persisters: int = 2) -> cfg.Layout:
    ports = cfg.Ports(
        nginx=8100,
        postgres=8101,
        redis=8102,
        main_client=8103,
        main_replication=8104,
        synchrotrons=[8110 + i for i in range(synchrotrons)],
        client_workers=[8120],
        persisters=[8130 + i for i in range(persisters)],
    )
    return cfg.Layout("localhost", ports, "db-pw", "redis-pw", "repl", "reg")


def test_synapse_configs_share_postgres_redis_and_the_instance_map(tmp_path: Path) -> None:
    lay = layout()
    shared = cfg.shared_config(lay, tmp_path)
    assert shared["database"]["name"] == "psycopg2"
    assert shared["database"]["args"]["port"] == 8101
    assert shared["redis"] == {
        "enabled": True,
        "host": cfg.LOOPBACK,
        "port": 8102,
        "password": "redis-pw",
    }
    assert shared["instance_map"] == {
        "main": {"host": cfg.LOOPBACK, "port": 8104},
        "persister-1": {"host": cfg.LOOPBACK, "port": 8130},
        "persister-2": {"host": cfg.LOOPBACK, "port": 8131},
    }
    assert shared["stream_writers"] == {"events": ["persister-1", "persister-2"]}
    assert [lst["resources"][0]["names"] for lst in shared["listeners"]] == [
        ["client"],
        ["replication"],
    ]
    assert all(lst["bind_addresses"] == [cfg.LOOPBACK] for lst in shared["listeners"])
    names = {cfg.worker_config(lay, w, tmp_path)["worker_name"] for w in lay.workers}
    assert names == {"persister-1", "persister-2", "synchrotron-1", "synchrotron-2", "client-1"}
    sync = cfg.worker_config(lay, "synchrotron-2", tmp_path)["worker_listeners"][0]
    assert (sync["port"], sync["resources"][0]["names"]) == (8111, ["client"])
    assert json.dumps(shared)  # written as JSON (which YAML reads)


def test_nginx_routes_sync_and_sending_to_workers_by_path(tmp_path: Path) -> None:
    text = cfg.nginx_config(layout(), tmp_path, None)
    assert "hash $mxid_localpart consistent; server 127.0.0.1:8110; server 127.0.0.1:8111;" in text
    for route in cfg.SYNC_ROUTES:
        assert f'location ~ "{route}" {{ proxy_pass http://synapse_sync; }}' in text
    for route in cfg.CLIENT_ROUTES:
        assert f'location ~ "{route}" {{ proxy_pass http://synapse_client; }}' in text
    assert text.rstrip().endswith("location / { proxy_pass http://synapse_main; }\n  }\n}")
    assert "access_log off;" in text
    assert "listen 127.0.0.1:8100;" in text


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_generated_config(tmp_path: Path) -> None:
    for kind in cfg.TEMP_KINDS:
        (tmp_path / "tmp" / kind).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(cfg.nginx_config(layout(), tmp_path, None))
    nginx = [shutil.which("nginx") or "nginx", "-p", str(tmp_path), "-c", str(conf)]
    result = subprocess.run(
        [*nginx, "-e", str(tmp_path / "error.log"), "-t"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    broken = conf.read_text().replace("proxy_pass http://synapse_sync;", "proxy_pass", 1)
    conf.write_text(broken)  # the check can fail
    result = subprocess.run(
        [*nginx, "-e", str(tmp_path / "error.log"), "-t"], capture_output=True, text=True
    )
    assert result.returncode != 0


async def statuses(hs: ScaledSynapse, token: str, room_id: str) -> dict[str, int]:
    """The HTTP status nginx gives a /sync, a send and a login-free main-process request."""
    sync, _ = await client_api(hs.url, "GET", "/_matrix/client/v3/sync?timeout=0", token)
    send, _ = await client_api(
        hs.url,
        "PUT",
        f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
        token,
        {"msgtype": "m.text", "body": "routed"},
    )
    main, _ = await client_api(hs.url, "GET", "/_matrix/client/v3/pushrules/", token)
    return {"sync": sync, "send": send, "main": main}


@pytest.mark.skipif(
    not os.environ.get("SAMVERKAN_TEST_SCALED"),
    reason="runs against the scaled homeserver (make scale-test)",
)
async def test_stopping_one_worker_fails_exactly_its_paths(synapse: Any, make_user: Any) -> None:
    assert isinstance(synapse, ScaledSynapse)
    user, password = await make_user("routed")
    status, login = await client_api(
        synapse.url,
        "POST",
        "/_matrix/client/v3/login",
        None,
        {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}}
        | {"password": password},
    )
    assert status == 200, login
    token = login["access_token"]
    status, room = await client_api(synapse.url, "POST", "/_matrix/client/v3/createRoom", token, {})
    assert status == 200, room
    room_id = room["room_id"]
    assert await statuses(synapse, token, room_id) == {"sync": 200, "send": 200, "main": 200}
    for kind, broken in (("synchrotron-", "sync"), ("client-", "send")):
        for daemon in synapse.synapses:  # every worker of the kind
            if daemon.name.startswith(kind):
                await daemon.stop()
        try:
            expected = {"sync": 200, "send": 200, "main": 200} | {broken: 502}
            assert await statuses(synapse, token, room_id) == expected, kind
        finally:
            await synapse.start()
    assert await statuses(synapse, token, room_id) == {"sync": 200, "send": 200, "main": 200}
