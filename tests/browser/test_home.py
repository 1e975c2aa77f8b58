import pytest

pytestmark = pytest.mark.browser


def test_home_page_renders_with_own_assets(page, live_server, screenshot):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url)
    assert page.get_by_role("heading", name="Share centre").is_visible()
    screenshot("home")
    assert requests
    assert all(url.startswith(live_server.url) for url in requests)
