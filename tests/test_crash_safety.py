"""``figurebot run`` killed (SIGKILL, as a crash or the OOM killer would) at each point between a Telegram
update or a Discord interaction arriving and its figure being posted: after a restart every user gets
their figure exactly once.

The one window that cannot be exactly-once is a kill after Telegram took the figure and before the bot
recorded that (the Bot API has no idempotency key): there, at most one duplicate.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest
from cryptography.fernet import Fernet

from bot.jobs import Status
from bot.privacy import Vault
from bot.store.repository import Store
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_api import User as DiscordUser
from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, FakeTelegram
from tests.test_processes import PERSON, ROOT, environment

KEY = Fernet.generate_key().decode()
DISCORD_TOKEN = "MTA0fake.bot.token-for-tests"
ALICE = DiscordUser(100_000_000_000_000_001, "Alice")
CAPTION = "Ann | astronaut"
ANN = FakeTelegram.user(1001, "Ann")
GROUP = FakeTelegram.group()


@pytest.fixture(autouse=True)
def no_process_left() -> Iterator[None]:
    """A failing test leaves no ``figurebot run`` behind."""
    yield
    for run in Run.started:
        if run.process.returncode is None:
            run.process.kill()
    Run.started.clear()


class Run:
    """One ``figurebot run`` process serving a fake platform; its log goes to a file."""

    started: ClassVar[list[Run]] = []

    def __init__(self, process: asyncio.subprocess.Process, log: IO[bytes], path: Path) -> None:
        self.process = process
        self.log = log
        self.path = path

    async def logged(self, event: str, timeout: float = 60.0) -> None:
        """Until the process has logged ``event``."""
        async with asyncio.timeout(timeout):
            while event not in self.path.read_text(errors="replace"):
                await asyncio.sleep(0.02)

    @classmethod
    async def start(cls, data: Path, api: FakeTelegram, name: str) -> Run:
        settings = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_FILE_BASE_URL": api.file_base_url,
        }
        run = await cls.spawn(data, name, settings)
        started = len(api.sent("setMyCommands"))
        await api.until(lambda: True if len(api.sent("setMyCommands")) > started else None, timeout=60)
        return run

    @classmethod
    async def on_discord(cls, data: Path, api: FakeDiscord, name: str) -> Run:
        settings = {
            "DISCORD_TOKEN": DISCORD_TOKEN,
            "DISCORD_API_BASE_URL": api.api_url,
            "DISCORD_GATEWAY_URL": api.gateway_url,
        }
        identified = len(api.identifies)
        run = await cls.spawn(data, name, settings)
        await api.wait_ready(identifies=identified + 1)
        return run

    @classmethod
    async def spawn(cls, data: Path, name: str, settings: dict[str, str]) -> Run:
        path = data.parent / f"{name}.log"
        log = path.open("wb")
        env = environment(data, FIGUREBOT_SECRET_KEY=KEY, **settings)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env, stderr=log
        )
        run = cls(process, log, path)
        cls.started.append(run)
        return run

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.log.close()

    async def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(self.process.wait(), 60) == 0
        self.log.close()


def send(api: FakeTelegram, kind: str) -> tuple[int, int]:
    """Ann asks for a figure: in her private chat, in a group (mentioning the bot), or as a document; the
    chat and the update's id."""
    if kind == "private":
        api.send_photo(ANN, PERSON.read_bytes(), caption=CAPTION)
        chat = ANN["id"]
    elif kind == "group":
        api.send_photo(ANN, PERSON.read_bytes(), caption=f"@{BOT_USERNAME} {CAPTION}", chat=GROUP)
        chat = GROUP["id"]
    else:
        api.send_document(ANN, PERSON.read_bytes(), "me.png", "image/png", caption=CAPTION)
        chat = ANN["id"]
    return chat, api.last_update_id


def figures(api: FakeTelegram, chat: int) -> list[Any]:
    return api.sent("sendPhoto", chat) + api.sent("sendDocument", chat)


async def stored_jobs(data: Path, platform: str = "telegram", user: str = str(ANN["id"])) -> list[Any]:
    store = await Store.open(f"sqlite+aiosqlite:///{data / 'figurebot.db'}", Vault(KEY.encode()))
    try:
        return await store.jobs.in_status(platform, user, Status.DONE)
    finally:
        await store.close()


async def settled(api: FakeTelegram, chat: int) -> None:
    """Until Ann's figure is there and her later messages are answered (the backlog is through)."""
    await api.until(lambda: figures(api, chat) or None, timeout=90)
    api.send_text(ANN, f"/themes@{BOT_USERNAME}", chat=GROUP if chat == GROUP["id"] else None)
    await api.wait_for_text(chat, "Themes:", timeout=30)


Point = Callable[[FakeTelegram, Run, int, int], Any]


async def fetched(api: FakeTelegram, run: Run, chat: int, update: int) -> None:
    await api.until(lambda: True if update in api.handed_out else None, timeout=60)


async def downloading(api: FakeTelegram, run: Run, chat: int, update: int) -> None:
    await api.wait_for_hold("file", timeout=60)


async def queued(api: FakeTelegram, run: Run, chat: int, update: int) -> None:
    await api.wait_for_text(chat, "in the queue", timeout=60)


async def painting(api: FakeTelegram, run: Run, chat: int, update: int) -> None:
    await run.logged("job.started")


async def uploading(api: FakeTelegram, run: Run, chat: int, update: int) -> None:
    await api.wait_for_hold("sendPhoto", timeout=90)


HOLDS = {downloading: "file", uploading: "sendPhoto"}


@pytest.mark.parametrize("kind", ["private", "group", "document"])
@pytest.mark.parametrize(
    "point", [fetched, downloading, queued, painting, uploading], ids=lambda p: p.__name__
)
async def test_killed_anywhere_before_the_post_every_figure_comes_once(
    tmp_path: Path, kind: str, point: Point
) -> None:
    data = tmp_path / "data"
    async with FakeTelegram() as api:
        first = await Run.start(data, api, "first")
        held = HOLDS.get(point)
        if held:
            api.hold(held)
        chat, update = send(api, kind)
        await point(api, first, chat, update)
        await first.kill()
        if held:
            api.release(held)  # the dead process's call is dropped; the next one gets through
        assert not figures(api, chat)
        second = await Run.start(data, api, "second")
        await settled(api, chat)
        await second.stop()
        assert len(figures(api, chat)) == 1
        assert "Ann" in (figures(api, chat)[0].params["caption"])
    assert len(await stored_jobs(data)) == 1


async def test_killed_after_telegram_took_the_figure_it_comes_at_most_twice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeTelegram() as api:
        first = await Run.start(data, api, "first")
        api.answer_late("sendPhoto", 120)  # Telegram has the figure; its answer never reaches the bot
        chat, _ = send(api, "private")
        await api.until(lambda: figures(api, chat) or None, timeout=90)
        await first.kill()
        second = await Run.start(data, api, "second")
        api.send_text(ANN, "/themes")
        await api.wait_for_text(chat, "Themes:", timeout=30)
        await second.stop()
        assert 1 <= len(figures(api, chat)) <= 2
    assert len(await stored_jobs(data)) == 1


async def test_four_people_mid_flight_each_get_one_figure(tmp_path: Path) -> None:
    """The reported case: four captioned photos, the first answered, then the process dies."""
    data = tmp_path / "data"
    people = [FakeTelegram.user(2001 + index, name) for index, name in enumerate(["Ann", "Bo", "Cy", "Di"])]
    async with FakeTelegram() as api:
        first = await Run.start(data, api, "first")
        for person in people:
            api.send_photo(person, PERSON.read_bytes(), caption=f"{person['first_name']} | astronaut")
        await api.wait_for_text(people[0]["id"], "in the queue", timeout=60)
        await first.kill()
        second = await Run.start(data, api, "second")
        for person in people:
            await api.until(lambda chat=person["id"]: figures(api, chat) or None, timeout=120)
        await second.stop()
        assert [len(figures(api, person["id"])) for person in people] == [1, 1, 1, 1]


def ask_on_discord(api: FakeDiscord, kind: str) -> dict[str, Any]:
    """Alice asks for a figure: ``/figure`` with a photo, or "Make my figure" on a photo she posted."""
    photo = api.attachment(PERSON.read_bytes(), "me.png", "image/png")
    if kind == "slash":
        return api.slash("figure", ALICE, photo=photo, name="Alice", theme="astronaut")
    posted = api.user_message(ALICE, "me!", [photo])
    return api.message_command("Make my figure", ALICE, posted)


DISCORD_HOLDS = {"downloading": ("GET", "/attachments/"), "uploading": ("POST", r"/webhooks/\d+/[^/]+$")}


@pytest.mark.parametrize("kind", ["slash", "menu"])
@pytest.mark.parametrize("point", ["acknowledged", "downloading", "painting", "uploading"])
async def test_killed_anywhere_before_the_post_every_discord_figure_comes_once(
    tmp_path: Path, kind: str, point: str
) -> None:
    data = tmp_path / "data"
    async with FakeDiscord() as api:
        first = await Run.on_discord(data, api, "first")
        held = DISCORD_HOLDS.get(point)
        if held:
            api.hold(*held)
        interaction = ask_on_discord(api, kind)
        await api.dispatch(interaction)
        assert (await api.callback(interaction)).json["type"] == 5  # acknowledged: "thinking…"
        if held:
            await api.wait_for(lambda: api.held, timeout=60)  # the request is on its way, stuck
        elif point == "painting":
            await first.logged("job.started")
        await first.kill()
        api.release()  # the dead process's request is dropped; the next one gets through
        assert not api.followups(interaction)
        second = await Run.on_discord(data, api, "second")
        figure = await api.wait_for(lambda: api.followups(interaction), timeout=90)
        await asyncio.sleep(1)  # time for a second one, which must not come
        await second.stop()
        assert len(api.followups(interaction)) == 1
        assert figure[0]["embeds"][0]["title"] == "Alice"
    assert len(await stored_jobs(data, "discord", str(ALICE.id))) == 1
