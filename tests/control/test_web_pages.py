"""The browser client's files as the control plane serves them: pages, and a page for people where there
is none (an HTML 404), while the API and the other endpoints keep their JSON errors."""

import pytest


@pytest.mark.parametrize("path", ["/nope", "/rooms.htm", "/app/nope.js", "/deep/er/page"])
async def test_an_unknown_page_is_an_html_page_for_people(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "This page does not exist" in response.text and "nothing at" not in response.text


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2", "/signaling/nope"])
async def test_unknown_api_paths_stay_json(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_known_pages_are_served(client):
    for path in ("/", "/index.html", "/rooms.html", "/admin.html", "/meeting.html", "/join.html"):
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
