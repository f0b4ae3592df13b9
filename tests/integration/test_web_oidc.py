"""Signing in to the web front with an OpenID Connect identity provider (the authorization
code flow with PKCE), against a small provider the test starts, with a web front of its own
configured for it; the services accept the provider's access tokens."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from deploy.stack import Stack, free_port
from services.platform.identity import claims
from tests.support.idp import IdentityProvider
from tests.web import Browser, text_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def provider(stack: Stack):
    sign = lambda subject: stack.token(claims(subject, ["resident"]))  # noqa: E731
    with IdentityProvider("talkoot-web", "s3cret-of-the-front", sign) as idp:
        yield idp


@pytest.fixture(scope="module")
def front(stack: Stack, provider: IdentityProvider, tmp_path_factory):
    port = free_port()
    env = {
        **stack.environment("web"),
        "TALKOOT_WEB_PORT": str(port),
        "TALKOOT_WEB_URL": f"http://127.0.0.1:{port}",
        "TALKOOT_OIDC_ISSUER": provider.url,
        "TALKOOT_OIDC_CLIENT_ID": provider.client_id,
        "TALKOOT_OIDC_CLIENT_SECRET": provider.client_secret,
        "TALKOOT_DEMO_SIGNIN": "off",
    }
    log = (tmp_path_factory.mktemp("oidc-web") / "web.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.web"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        pytest.fail("the web front configured for OIDC did not start")
    yield url
    process.terminate()
    process.wait(10)


def test_the_sign_in_page_offers_the_identity_provider_and_no_demo_people(front):
    page = Browser(front).get("/signin")
    words = text_of(page.text)
    assert "Sign in with strong identification" in words and "Demo people" not in words
    assert Browser(front).post("/signin/demo", {"subject": "resident-0001"}).status_code == 404


def test_a_resident_signs_in_at_the_identity_provider_and_comes_back_signed_in(front, provider):
    provider.next_subject = "resident-oidc-1"
    browser = Browser(front)
    page = browser.get("/signin/oidc", next="/my/requests")
    assert page.url.path == "/my/requests", page.text
    assert "Signed in as Testi resident-oidc-1" in page.text  # the ID token's name
    # the services took the provider's access token: the page lists the resident's requests
    assert "You have not asked for anything yet." in text_of(page.text)
    exchange = provider.exchanged[-1]
    assert exchange["grant_type"] == "authorization_code" and len(exchange["code_verifier"]) >= 43
    cookie = next(c for c in browser.http.cookies.jar if c.name == "talkoot_session")
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_signing_out_ends_the_session_at_the_identity_provider_too(front, provider):
    provider.next_subject = "resident-oidc-2"
    browser = Browser(front)
    assert browser.get("/signin/oidc", next="/my/requests").url.path == "/my/requests"
    id_token = provider.issued[-1]

    home = browser.post("/signout", {})

    assert str(home.url) == f"{front}/", home.url  # back at the front
    ended = provider.ended[-1]
    assert ended["id_token_hint"] == id_token and ended["client_id"] == provider.client_id
    assert ended["post_logout_redirect_uri"] == f"{front}/"
    assert "Signed in as" not in home.text
    assert browser.get("/my/requests").url.path == "/signin"


def test_an_answer_to_no_sign_in_begun_here_signs_nobody_in(front, provider):
    browser = Browser(front)
    page = browser.get("/signin/callback", code="forged", state="forged")
    assert page.status_code == 400 and "Signing in did not work" in page.text
    assert browser.get("/my/requests").url.path == "/signin"


def test_a_code_exchanged_without_its_verifier_is_refused(front, provider):
    """The state of one sign-in, the code of another: the provider refuses the exchange, and
    nobody is signed in."""
    browser = Browser(front)
    started = browser.http.get("/signin/oidc", follow_redirects=False)
    authorize = started.headers["location"]
    other = httpx.get(
        authorize.replace("code_challenge=", "code_challenge=x"), follow_redirects=False
    )
    back = httpx.URL(other.headers["location"])
    page = browser.get("/signin/callback", code=back.params["code"], state=back.params["state"])
    assert page.status_code == 400
    assert browser.get("/my/requests").url.path == "/signin"
