"""Behind a reverse proxy (every real deployment; nginx in front of Synapse's workers in
``make scale-test``) a restarting homeserver answers with the proxy's HTML error page, not with
Matrix JSON. Found by the soak against the scaled homeserver: a bot starting while Synapse
restarted crashed on nginx's 502 page; such an answer is transient, like a refused connection.
"""

from __future__ import annotations

import pytest

from messenger.errors import TransientError
from tests.e2ee.support import ClientFactory
from tests.proxy import FaultProxy


async def test_html_error_page_is_transient_and_the_next_call_works(
    client_factory: ClientFactory, make_user, proxy: FaultProxy
) -> None:
    user, password = await make_user("proxied")
    client = await client_factory(user, password, url=proxy.url)
    query = {"device_keys": {user: []}}
    proxy.add("fail", r"/keys/query$", status=502, html=True)
    with pytest.raises(TransientError, match="keys/query"):
        await client.session.api("POST", "/keys/query", query)
    data = await client.session.api("POST", "/keys/query", query)
    assert client.session.device_id in data["device_keys"][user]
