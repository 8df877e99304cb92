"""The ComfyUI generator in the engine and the terminal: the real generator over HTTP and a websocket
against fake ComfyUI servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.engine import BUSY, UNAVAILABLE
from bot.errors import ConfigurationError
from bot.figure.backdrop import key_out_backdrop
from bot.generators.boxing import cut_out
from bot.generators.comfyui.client import _queue, decode_preview, workflow_problem
from bot.generators.comfyui.generator import ComfyUIGenerator, paint_size, seed_for
from bot.generators.comfyui.workflow import bundled_names, load_workflow, workflow_path
from bot.generators.local import LocalGenerator
from bot.jobs import EventKind, Job, Status
from bot.spec import make_spec
from tests.engine_kit import (
    PERSON,
    Rig,
    photo,
    recorded,
    rig,
    settings_for,
    spec,
    wait_for_status,
    wait_until,
)
from tests.fakes.comfyui import FakeComfyUI
from tests.photo_factory import encode, gps_exif
from tests.test_openai import figurebot

QWEN_MODEL = "qwen_image_edit_2511_fp8mixed.safetensors"


def closed_port() -> str:
    """The address of a port nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@asynccontextmanager
async def comfy_rig(tmp_path: Path, urls: list[str], **values: Any) -> AsyncIterator[Rig]:
    """An engine whose default generator paints on the ComfyUI servers at ``urls``."""
    options = {
        "comfyui_urls": ",".join(urls),
        "figurebot_generator": "comfyui",
        "max_active_jobs_per_user": 0,
        **values,
    }
    settings = settings_for(tmp_path, **options)
    generator = ComfyUIGenerator(settings, LocalGenerator((settings.figure_width, settings.figure_height)))
    local = LocalGenerator((settings.figure_width, settings.figure_height))
    async with rig(tmp_path, generator, others=(local,), **options) as r:  # type: ignore[arg-type]
        yield r


async def delivered(r: Rig, job_id: str) -> Job:
    return await wait_until(r.store, job_id, lambda job: job.delivered_at is not None)


def bound(prompt: dict[str, Any], slot: str) -> Any:
    node, _, name = slot.partition(".")
    return prompt[node]["inputs"][name]


async def test_a_figure_is_painted_on_the_gpu_server_and_boxed_here(tmp_path: Path) -> None:
    async with FakeComfyUI(step_delay=0.01) as comfy, comfy_rig(tmp_path, [comfy.origin]) as r:
        events = recorded(r)
        with Image.open(PERSON) as image:
            tagged = encode(image.convert("RGB"), "JPEG", exif=gps_exif(), quality=90)
        from bot.intake import IntakeLimits, accept_photo

        cleaned = accept_photo(tagged, IntakeLimits.from_settings(r.settings))
        submitted = await r.engine.submit(r.requester(), cleaned, make_spec(name="Zoë", theme="pirate"))
        done = await delivered(r, submitted.job_id)
        assert done.status is Status.DONE and done.painter == "comfyui"
        upload = comfy.uploads[0]
        assert (upload.type, upload.overwrite, upload.content_type) == ("temp", True, "image/png")
        with Image.open(io.BytesIO(upload.content)) as sent:
            assert sent.format == "PNG" and not sent.info and not sent.getexif()
        queued = comfy.prompts[0]
        assert queued.extra_data.get("preview_method") == "auto"
        assert bound(queued.prompt, "41.image") == f"{upload.name} [temp]"
        text = bound(queued.prompt, "103.prompt")
        assert '"Zoë"' not in text and "plain, seamless" in text and "transparent" not in text
        assert (bound(queued.prompt, "120.width"), bound(queued.prompt, "120.height")) == (832, 1248)
        assert bound(queued.prompt, "107.seed") == seed_for(1)
        assert comfy.history_deletes == [queued.prompt_id] and queued.prompt_id not in comfy.history
        progress = [event for event in events if event.kind is EventKind.PROGRESS]
        assert [event for event in progress if event.preview is not None], "previews reach the chat"
        fractions = [event.fraction for event in progress]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
        figure = next(event.figure for event in events if event.figure)
        with Image.open(io.BytesIO(figure)) as boxed:
            picture = boxed.convert("RGB")
        own_box = LocalGenerator().render(photo(), make_spec(name="Zoë", theme="pirate")).convert("RGB")
        assert picture.size == (1024, 1536)
        for corner in ((2, 2), (1021, 2), (2, 1533)):  # figurebot's own box art around the painted toy
            assert picture.getpixel(corner) == own_box.getpixel(corner)
        assert (244, 244, 244) not in {picture.getpixel((x, 700)) for x in range(100, 700, 10)}


async def test_ai_mode_delivers_the_model_s_whole_box(tmp_path: Path) -> None:
    async with FakeComfyUI() as comfy, comfy_rig(tmp_path, [comfy.origin], comfyui_box_mode="ai") as r:
        events = recorded(r)
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await delivered(r, submitted.job_id)
        text = bound(comfy.prompts[0].prompt, "103.prompt")
        assert "Package the figure" in text and '"Alex"' in text
        figure = next(event.figure for event in events if event.figure)
        own_box = LocalGenerator().render(photo(), spec()).convert("RGB")
        with Image.open(io.BytesIO(figure)) as boxed:
            assert boxed.size == (1024, 1536)
            assert boxed.convert("RGB").getpixel((2, 2)) != own_box.getpixel((2, 2))  # the model's box


async def test_a_re_roll_sends_a_new_seed_and_the_same_take_the_same_one(tmp_path: Path) -> None:
    assert seed_for(1) == seed_for(1) != seed_for(2)
    async with FakeComfyUI() as comfy, comfy_rig(tmp_path, [comfy.origin]) as r:
        first = await r.engine.submit(r.requester(), photo(), spec())
        await delivered(r, first.job_id)
        again = await r.engine.reroll(first.job_id, r.requester())
        await delivered(r, again.job_id)
        seeds = [bound(queued.prompt, "107.seed") for queued in comfy.prompts]
        assert seeds == [seed_for(1), seed_for(2)]


async def test_a_missing_model_tells_the_operator_which_node_and_is_never_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeComfyUI() as comfy, comfy_rig(tmp_path, [comfy.origin]) as r:
        comfy.remove_model(QWEN_MODEL)
        with caplog.at_level(logging.ERROR, logger="figurebot"):
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            failed = await wait_for_status(r.store, submitted.job_id, Status.FAILED)
        assert failed.error == UNAVAILABLE and failed.attempts == 1
        assert len(comfy.uploads) == 1 and not comfy.prompts
        said = caplog.text
        assert "node 37 (UNETLoader)" in said or "(UNETLoader)" in said
        assert QWEN_MODEL in said and "COMFYUI_WORKFLOW" in said


async def test_a_missing_custom_node_is_named_to_the_operator(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeComfyUI() as comfy, comfy_rig(tmp_path, [comfy.origin]) as r:
        comfy.remove_node("TextEncodeQwenImageEditPlus")
        with caplog.at_level(logging.ERROR, logger="figurebot"):
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            failed = await wait_for_status(r.store, submitted.job_id, Status.FAILED)
        assert failed.error == UNAVAILABLE
        assert "not found" in caplog.text and "custom node" in caplog.text


async def test_out_of_memory_moves_the_figure_to_the_second_server(tmp_path: Path) -> None:
    async with FakeComfyUI(step_delay=0.01) as first, FakeComfyUI(step_delay=0.01) as second:
        first.out_of_memory_next()
        async with comfy_rig(tmp_path, [first.origin, second.origin]) as r:
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            done = await delivered(r, submitted.job_id)
            assert done.status is Status.DONE and done.attempts == 1
            assert len(first.prompts) == len(second.prompts) == 1
            assert first.history_deletes == [first.prompts[0].prompt_id]


async def test_a_server_that_dies_mid_figure_hands_it_to_the_next(tmp_path: Path) -> None:
    async with FakeComfyUI(step_delay=0.02) as first, FakeComfyUI(step_delay=0.01) as second:
        first.die_after_step(2)
        async with comfy_rig(tmp_path, [first.origin, second.origin]) as r:
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            done = await delivered(r, submitted.job_id)
            assert done.status is Status.DONE and done.attempts == 1
            assert len(second.prompts) == 1


async def test_a_server_that_is_down_is_skipped(tmp_path: Path) -> None:
    async with FakeComfyUI() as comfy, comfy_rig(tmp_path, [closed_port(), comfy.origin]) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        done = await delivered(r, submitted.job_id)
        assert done.status is Status.DONE and len(comfy.prompts) == 1


async def test_with_no_server_up_the_figure_is_retried_then_refused_or_painted_locally(
    tmp_path: Path,
) -> None:
    async with comfy_rig(tmp_path / "retried", [closed_port()], max_attempts=2) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        failed = await wait_for_status(r.store, submitted.job_id, Status.FAILED)
        assert failed.error == BUSY and failed.attempts == 2
    async with comfy_rig(tmp_path / "fallback", [closed_port()], fallback_to_local=True) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        done = await delivered(r, submitted.job_id)
        assert done.status is Status.DONE and done.painter == "local" and done.generator == "comfyui"


async def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    async with FakeComfyUI() as comfy:
        comfy.stall()
        async with comfy_rig(tmp_path, [comfy.origin], comfyui_timeout=0.5, max_attempts=1) as r:
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            failed = await wait_for_status(r.store, submitted.job_id, Status.FAILED)
            assert failed.error == BUSY


async def test_a_silent_server_mid_figure_times_out(tmp_path: Path) -> None:
    async with (
        FakeComfyUI(step_delay=0.05) as comfy,
        comfy_rig(tmp_path, [comfy.origin], comfyui_timeout=0.5, max_attempts=1) as r,
    ):
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await comfy.until_running()
        comfy.stall()
        failed = await wait_for_status(r.store, submitted.job_id, Status.FAILED)
        assert failed.error == BUSY


@pytest.mark.parametrize("by_id", [True, False])
async def test_cancelling_a_running_figure_interrupts_it_on_its_server(tmp_path: Path, by_id: bool) -> None:
    async with (
        FakeComfyUI(step_delay=0.3, interrupt_by_id=by_id) as comfy,
        comfy_rig(tmp_path, [comfy.origin]) as r,
    ):
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        prompt_id = await comfy.until_running()
        await r.engine.cancel(submitted.job_id, r.requester())
        await wait_until(r.store, submitted.job_id, lambda job: job.status is Status.CANCELLED)
        for _ in range(100):
            if comfy.interrupts and comfy.history_deletes and comfy.running is None:
                break
            await asyncio.sleep(0.02)
        assert comfy.interrupts == [{"prompt_id": prompt_id}]
        assert comfy.history_deletes == [prompt_id] and comfy.running is None


async def test_a_figure_cancelled_in_the_server_s_queue_leaves_it(tmp_path: Path) -> None:
    async with FakeComfyUI() as comfy, comfy_rig(tmp_path, [comfy.origin]) as r:
        comfy.hold()
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        for _ in range(200):
            if comfy.pending:
                break
            await asyncio.sleep(0.02)
        prompt_id = comfy.pending[0]
        await r.engine.cancel(submitted.job_id, r.requester())
        for _ in range(100):
            if comfy.queue_deletes:
                break
            await asyncio.sleep(0.02)
        assert comfy.queue_deletes == [prompt_id] and not comfy.interrupts and not comfy.pending


async def test_a_slow_server_queue_shows_the_figure_s_place_in_it(tmp_path: Path) -> None:
    async with FakeComfyUI(step_delay=0.01) as comfy, comfy_rig(tmp_path, [comfy.origin]) as r:
        events = recorded(r)
        comfy.hold()
        comfy.queue_foreign(2)
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        stages: list[str] = []
        for _ in range(300):
            stages = [event.stage or "" for event in events if event.kind is EventKind.PROGRESS]
            if "in the GPU queue, 2 ahead" in stages:
                break
            await asyncio.sleep(0.02)
        assert "in the GPU queue, 2 ahead" in stages
        comfy.release()
        done = await delivered(r, submitted.job_id)
        assert done.status is Status.DONE


async def test_the_token_is_sent_and_a_refused_one_is_the_operator_s_to_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeComfyUI(require_token="s3cret-token") as comfy:
        async with comfy_rig(tmp_path / "right", [comfy.origin], comfyui_token="s3cret-token") as r:
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            await delivered(r, submitted.job_id)
            assert set(comfy.authorizations) == {"Bearer s3cret-token"}
        async with comfy_rig(tmp_path / "wrong", [comfy.origin], comfyui_token="wrong") as r:
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            with caplog.at_level(logging.ERROR, logger="figurebot"):
                failed = await wait_for_status(r.store, submitted.job_id, Status.FAILED)
            assert failed.error == UNAVAILABLE and failed.attempts == 1
            assert (
                "refused the request (401): check COMFYUI_TOKEN" in caplog.text and "wrong" not in caplog.text
            )


async def test_several_figures_spread_over_the_servers(tmp_path: Path) -> None:
    async with (
        FakeComfyUI(step_delay=0.05) as first,
        FakeComfyUI(step_delay=0.05) as second,
        comfy_rig(tmp_path, [first.origin, second.origin], worker_concurrency=4) as r,
    ):
        jobs = [await r.engine.submit(r.requester(f"u{n}"), photo(), spec()) for n in range(4)]
        for job in jobs:
            await delivered(r, job.job_id)
        assert len(first.prompts) == len(second.prompts) == 2


async def test_a_chat_keeping_photos_on_the_bot_s_machines_may_use_its_own_gpus(tmp_path: Path) -> None:
    async with FakeComfyUI() as comfy:
        async with comfy_rig(tmp_path / "own", [comfy.origin]) as r:
            await r.engine.update_chat_settings(r.requester(), local_only=True)
            assert r.engine.own_machine_painters() == ["comfyui", "local"]
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            done = await delivered(r, submitted.job_id)
            assert done.painter == "comfyui" and len(comfy.prompts) == 1
        async with comfy_rig(tmp_path / "hosted", [comfy.origin], comfyui_on_premises=False) as r:
            from bot.privacy import ConsentRequired

            with pytest.raises(ConsentRequired, match="a hosted ComfyUI service"):
                await r.engine.submit(r.requester(), photo(), spec())
            await r.engine.update_chat_settings(r.requester(), local_only=True)
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            done = await delivered(r, submitted.job_id)
            assert done.painter == "local" and len(comfy.prompts) == 1


async def test_render_with_comfyui_shows_a_progress_bar(tmp_path: Path) -> None:
    async with FakeComfyUI(step_delay=0.01) as comfy:
        out = tmp_path / "eileen.png"
        args = ("render", str(PERSON), "--generator", "comfyui", "--name", "Eileen", "-o", str(out))
        code, printed, said = await figurebot(*args, cwd=tmp_path, COMFYUI_URLS=comfy.origin)
        assert (code, printed.strip()) == (0, str(out)), said
        assert f"Painting on ComfyUI (qwen-image-edit-2511) at {comfy.origin}" in said
        assert "% painting" in said and "[########################] 100% boxed" in said
        with Image.open(out) as figure:
            assert figure.size == (1024, 1536)


async def test_render_with_comfyui_retries_on_the_next_attempt_and_explains_problems(tmp_path: Path) -> None:
    args = ("render", str(PERSON), "--generator", "comfyui", "-o", str(tmp_path / "x.png"))
    code, _, said = await figurebot(*args, cwd=tmp_path, COMFYUI_URLS="")
    assert (code, said.strip()) == (
        2,
        "figurebot: --generator comfyui needs COMFYUI_URLS (see .env.example).",
    )
    code, _, said = await figurebot(*args, cwd=tmp_path, COMFYUI_URLS="gpu1:8188")
    assert code == 2 and "COMFYUI_URLS takes http(s) base URLs" in said and "Traceback" not in said
    env = {"COMFYUI_WORKFLOW": "nonesuch"}
    async with FakeComfyUI() as comfy:
        code, _, said = await figurebot(*args, cwd=tmp_path, COMFYUI_URLS=comfy.origin, **env)
        assert code == 2 and "nonesuch" in said and "qwen-image-edit-2511" in said
        comfy.out_of_memory_next()
        env = {"COMFYUI_URLS": comfy.origin, "RETRY_BASE_DELAY": "0.01s"}
        code, _, said = await figurebot(*args, cwd=tmp_path, **env)
        assert code == 0, said
        assert "ran out of GPU memory" in said and "(attempt 2 of 3)" in said
        comfy.remove_model(QWEN_MODEL)
        code, _, said = await figurebot(*args, cwd=tmp_path, **env)
        assert code == 2 and QWEN_MODEL in said and "trying again" not in said


def test_the_bundled_workflows_load_and_bind(tmp_path: Path) -> None:
    assert {"qwen-image-edit-2511", "flux2-klein-4b"} <= set(bundled_names())
    for name in bundled_names():
        workflow = load_workflow(workflow_path(name))
        graph = workflow.bind("photo.png [temp]", "a toy", 7, (832, 1248))
        assert workflow.class_of(workflow.output) == "PreviewImage"
        assert any(
            node["class_type"] == "LoadImage" and node["inputs"]["image"] == "photo.png [temp]"
            for node in graph.values()
        )
        assert workflow.models and all("/" in model for model in workflow.models)
        assert graph != workflow.graph  # the workflow itself stays unbound


def test_a_workflow_or_binding_that_cannot_be_used_is_explained(tmp_path: Path) -> None:
    source = workflow_path("flux2-klein-4b")
    mine = tmp_path / "mine.json"
    mine.write_text(source.read_text())
    with pytest.raises(ConfigurationError, match=r"mine\.toml"):
        load_workflow(mine)
    binding = source.with_suffix(".toml").read_text()
    (tmp_path / "mine.toml").write_text(binding.replace('"74.text"', '"74.words"'))
    with pytest.raises(ConfigurationError, match=r"prompt = '74\.words' names no input"):
        load_workflow(mine)
    mine.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(ConfigurationError, match="not in API format"):
        load_workflow(mine)
    mine.write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"cannot read mine\.json"):
        load_workflow(mine)


def test_paint_size_keeps_the_figure_s_shape_at_about_a_megapixel() -> None:
    assert paint_size((1024, 1536)) == (832, 1248)
    assert paint_size((512, 768)) == (512, 768)


def test_a_server_s_queue_is_read_in_the_order_it_runs() -> None:
    answer = {
        "queue_running": [[3, "c", {}, {}, []]],
        "queue_pending": [[9, "late", {}, {}, []], [5, "early", {}, {}, []], "junk"],
    }
    queue = _queue(answer)
    assert queue.pending == ("early", "late") and queue.length == 3
    assert queue.ahead_of("late") == 2 and queue.ahead_of("c") is None


def test_preview_frames_are_read_and_odd_ones_ignored() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (1, 2, 3)).save(buffer, "JPEG")
    frame = (1).to_bytes(4, "big") + (1).to_bytes(4, "big") + buffer.getvalue()
    preview = decode_preview(frame)
    assert preview is not None and max(preview.size) <= 512
    assert decode_preview((2).to_bytes(4, "big") + frame[4:]) is None
    assert decode_preview(frame[:12]) is None and decode_preview(b"") is None


def test_a_refused_workflow_is_described_node_by_node() -> None:
    answer = {
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation"},
        "node_errors": {
            "37": {
                "class_type": "UNETLoader",
                "errors": [
                    {"message": "Value not in list", "details": "unet_name: 'x.safetensors' not in []"}
                ],
            }
        },
    }
    said = workflow_problem("http://gpu1:8188", answer)
    assert "node 37 (UNETLoader): Value not in list: unet_name: 'x.safetensors'" in said
    assert "cannot run the workflow: x " in workflow_problem("http://gpu1:8188", {"error": "x"})
    assert workflow_problem("http://gpu1:8188", None).startswith("ComfyUI at http://gpu1:8188")


def test_a_plain_backdrop_is_keyed_out_and_a_busy_one_is_not() -> None:
    picture = Image.new("RGB", (400, 600), (244, 244, 244))
    picture.paste((200, 40, 40), (150, 100, 250, 500))
    figure = key_out_backdrop(picture)
    assert figure is not None and figure.size == (100, 400)
    assert figure.getchannel("A").getpixel((50, 200)) == 255  # solid inside, soft only at the edge
    busy = Image.effect_noise((400, 600), 90).convert("RGB")
    assert key_out_backdrop(busy) is None
    assert key_out_backdrop(Image.new("RGB", (400, 600), (244, 244, 244))) is None


def test_a_transparent_picture_is_cut_by_its_own_alpha() -> None:
    picture = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    picture.paste((10, 20, 30, 255), (100, 50, 200, 250))
    figure = cut_out(picture)
    assert figure is not None and figure.size == (100, 200)


async def test_the_user_s_words_are_checked_before_the_gpu_is_used(tmp_path: Path) -> None:
    from tests.fakes.openai_api import FakeOpenAI

    async with (
        FakeOpenAI(api_key="sk-test-key-for-words") as api,
        FakeComfyUI() as comfy,
        comfy_rig(
            tmp_path, [comfy.origin], openai_api_key="sk-test-key-for-words", openai_base_url=api.base_url
        ) as r,
    ):
        api.flag_words = {"kill": ["violence"]}
        submitted = await r.engine.submit(r.requester(), photo(), make_spec(name="Kill Bill", tagline="hi"))
        job = await delivered(r, submitted.job_id)
        assert job.error == "I can't make that figure: its words were flagged (violence). Please change them."
        assert api.moderations[0]["input"] == ["Kill Bill", "hi"] and not comfy.uploads and not api.edits
        fine = await r.engine.submit(r.requester(), photo(), make_spec(name="Ann"))
        assert (await delivered(r, fine.job_id)).status is Status.DONE and len(comfy.uploads) == 1


async def test_the_privacy_notice_says_where_the_photo_is_painted_and_kept(tmp_path: Path) -> None:
    from adapters.wording import privacy_text

    async with FakeComfyUI() as comfy, comfy_rig(tmp_path, [comfy.origin]) as r:
        notice, needs_accept = await privacy_text(r.engine, r.requester())
        assert not needs_accept and "version 2" in notice
        assert "stays on this bot's own machines" in notice and "own GPU servers" in notice
        assert "temporary folder until they restart" in notice
