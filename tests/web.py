"""Signing in to the stack's web front as anybody a test needs, through its demo sign-in
(the stack's web reads the people of ``<data>/demo-tokens.json``), and posting its forms
with their CSRF token, as a browser does."""

from __future__ import annotations

import re
from typing import Any

import httpx

from deploy.demo import Person, write_tokens
from deploy.stack import DEMO_PEOPLE, Stack


class Web:
    """The people of the stack's demo sign-in, added as tests need them."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.url = stack.url("web")
        self.people: dict[str, Person] = {}

    def person(
        self,
        role: str,
        subject: str,
        acts_for: str | None = None,
        may_sign: bool = True,
        asked: tuple = (),
    ) -> Person:
        """``subject`` on the demo's list; an officer signs for their partner unless
        ``may_sign`` is off; a resident's ``asked`` is what the sign-in page says of them."""
        if subject not in self.people:
            self.people[subject] = Person(
                role, subject, acts_for, f"test {role}", asked=asked, may_sign=may_sign
            )
            path = self.stack.data_dir / DEMO_PEOPLE
            write_tokens(path, list(self.people.values()), self.stack.token)
        return self.people[subject]

    def browser(self, lang: str = "en") -> Browser:
        return Browser(self.url, lang)

    def signed_in(
        self, role: str, subject: str, acts_for: str | None = None, lang="en", may_sign=True
    ):
        """A client signed in as that person (added to the people first)."""
        self.person(role, subject, acts_for, may_sign)
        client = self.browser(lang)
        page = client.post("/signin/demo", {"subject": subject})
        assert page.history and "talkoot_session" in client.http.cookies, page.text
        return client


class Browser:
    """An HTTP client with a cookie jar, following redirects, that sends each form with the
    CSRF token the front gave it."""

    def __init__(self, url: str, lang: str = "en") -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=True, timeout=20)
        if lang:
            self.http.cookies.set("lang", lang)

    def get(self, path: str, **params: Any) -> httpx.Response:
        page = self.http.get(path, params=params)
        forms_are_protected(page.text)
        return page

    def csrf(self) -> str:
        if "talkoot_csrf" not in self.http.cookies:
            self.get("/")
        return self.http.cookies["talkoot_csrf"]

    def post(self, path: str, form: dict[str, Any], csrf: bool = True) -> httpx.Response:
        data = {**form, **({"_csrf_token": self.csrf()} if csrf else {})}
        return self.http.post(path, data=data)


def forms_are_protected(html: str) -> None:
    """Every form that posts carries its CSRF token (a browser sends only what the form has)."""
    forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, flags=re.S)
    for form in forms:
        assert 'name="_csrf_token"' in form, f"a form without its CSRF token: {form[:300]}"


def text_of(html: str) -> str:
    """A page's words, without its tags, for asserting what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
