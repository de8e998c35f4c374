"""The pages in a real browser (Debian's Chromium, headless, driven by Playwright): the loop in two contexts,
the config form's validation and the charts. Set ORCH_SCREENSHOTS=docs to refresh the README's screenshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.utils.api import KNOWN_QUESTION, NOVEL_QUESTION, Api

ANSWER = "I'm a coach, not a financial adviser: talk to a fiduciary, and never invest money you'll need soon."
PARAPHRASE = "What's your view on putting my retirement savings into crypto?"
SCREENSHOTS = os.environ.get("ORCH_SCREENSHOTS")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Chromium is missing: `make test` installs it (apt-get install chromium)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def signed_in(browser: Browser, url: str, key: str, **context: object) -> Page:
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(url)
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    return page


async def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:  # playwright creates the folder
        await page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


async def agent_handle(api: Api, creator_key: str, agent_id: str) -> str:
    return next(a["handle"] for a in await api.call("GET", "/agents", creator_key) if a["id"] == agent_id)


async def test_the_loop_in_two_browsers(api: Api, server, browser: Browser) -> None:  # noqa: ANN001
    world = await api.world()
    handle = await agent_handle(api, world.creator_key, world.agent_id)
    creator = await signed_in(browser, f"{server.url}/creator", world.creator_key)
    await expect(creator.get_by_text("Nothing waiting")).to_be_visible()

    # The user, on a phone-sized screen, asks something new and accepts the offer.
    user = await signed_in(
        browser, f"{server.url}/chat/{handle}", world.users["follower"], viewport={"width": 390, "height": 844}
    )
    await user.get_by_label("Your message").fill(KNOWN_QUESTION)
    await user.keyboard.press("Enter")  # keyboard only
    await expect(user.locator(".msg.agent").last).to_contain_text("1.6 to 2.2 grams of protein")
    await expect(user.locator(".msg.agent .badge").last).to_have_text("answered by AI")
    await expect(user.locator(".msg.agent .meta").last).to_contain_text("confidence HIGH")
    await user.get_by_label("Your message").fill(NOVEL_QUESTION)
    await user.get_by_role("button", name="Send").click()
    await expect(user.get_by_text("Expected reply within 24 h.")).to_be_visible()
    await user.get_by_role("button", name="Send to the creator").click()
    await expect(user.get_by_text("Sent to the creator.")).to_be_visible()

    # The creator sees it arrive without a reload, with its context, and answers it.
    card = creator.locator("article", has_text=NOVEL_QUESTION)
    await expect(card).to_be_visible(timeout=10_000)
    await expect(card).to_contain_text("follower member")
    await shot(creator, "creator-inbox.png")
    await card.get_by_label("Your answer").fill(ANSWER)
    await card.get_by_role("button", name="Send answer").click()
    await expect(creator.get_by_role("status").first).to_contain_text("Answered")
    await expect(creator.locator("#answers").get_by_label("Question")).to_have_value(NOVEL_QUESTION)

    # The user's open page shows the answer live; after a reload the whole history is there.
    answer = user.locator(".msg.agent", has_text=ANSWER)
    await expect(answer).to_be_visible(timeout=10_000)
    await expect(answer.locator(".badge")).to_have_text("from the creator")
    await shot(user, "chat.png")
    await user.reload()
    await expect(user.locator(".msg.agent", has_text=ANSWER)).to_be_visible()
    await expect(user.locator(".msg.user")).to_have_count(2)

    # Another user's paraphrase is answered from the creator's words.
    other = await signed_in(browser, f"{server.url}/chat/{handle}", world.users["free"])
    await other.get_by_label("Your message").fill(PARAPHRASE)
    await other.keyboard.press("Enter")
    reused = other.locator(".msg.agent", has_text=ANSWER)
    await expect(reused).to_be_visible()
    await expect(reused.locator(".badge")).to_have_text("from the creator")
    await expect(reused.locator(".meta")).to_contain_text("Answered by Mia Chen")

    # "Yes, it answered me": the answer learns this phrasing, and the creator can review it.
    await reused.get_by_role("button", name="Yes").click()
    await expect(reused.get_by_text("Thanks, noted.")).to_be_visible()
    await creator.reload()
    phrasings = creator.locator("#answers details").first
    await phrasings.locator("summary").click()
    await expect(phrasings.locator("li", has_text=PARAPHRASE)).to_contain_text("feedback")


async def test_dashboard_validates_the_config_and_charts_the_metrics(api: Api, server, browser: Browser) -> None:  # noqa: ANN001
    world = await api.world(canonical=[("Do you offer one-on-one coaching?", "Not right now.", "public")])
    conversation = await api.conversation(world, "paid")
    for question in (KNOWN_QUESTION, "Do you offer 1-on-1 coaching?", NOVEL_QUESTION, "protein?"):
        await api.ask(conversation, world.users["paid"], question)

    page = await signed_in(browser, f"{server.url}/creator/agents/{world.agent_id}", world.creator_key)
    paths = page.locator("#chart-paths rect.bar")
    await expect(paths).to_have_count(6)
    values = [float(await bar.get_attribute("data-value")) for bar in await paths.all()]
    assert values == [1, 1, 1, 1, 0, 0]  # A, B, C, D, E, F
    await expect(page.locator("#chart-escalations line.reference")).to_have_count(1)
    await expect(page.locator("#headline")).to_contain_text("4 messages")
    await shot(page, "dashboard.png")

    threshold = page.get_by_label("Reuse your answer at or above this similarity")
    await threshold.fill("2")
    await page.get_by_role("button", name="Save rules").click()
    await expect(page.get_by_role("alert")).to_contain_text("canonical_similarity_threshold")
    await expect(page.get_by_label("Reuse your answer at or above this similarity")).to_have_attribute(
        "aria-invalid", "true"
    )
    config = await api.call("GET", f"/orchestrator/config/{world.agent_id}", world.creator_key)
    assert config["canonical_similarity_threshold"] == 0.85  # nothing was saved

    await page.get_by_label("Reuse your answer at or above this similarity").fill("0.8")
    await page.get_by_role("button", name="Save rules").click()
    await expect(page.get_by_role("status").last).to_contain_text("Saved")
    config = await api.call("GET", f"/orchestrator/config/{world.agent_id}", world.creator_key)
    assert config["canonical_similarity_threshold"] == 0.8
