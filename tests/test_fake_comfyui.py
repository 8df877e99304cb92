"""The fake ComfyUI server, driven with a plain aiohttp client as the ``comfyui`` generator drives ComfyUI."""

from __future__ import annotations

import asyncio
import io
import json
import re
import struct
import time
from typing import Any

import aiohttp
import pytest
from PIL import Image

from tests.fakes.comfyui import BACKGROUND, OOM_TYPE, FakeComfyUI

UNET = "qwen_image_edit_2511_fp8mixed.safetensors"
TOKEN = "comfy-secret"


def workflow(
    image: str, *, seed: int = 7, steps: int = 3, text: str = "An action figure of the person."
) -> Any:
    """A cut-down Qwen-Image-Edit graph in API format, ending in a PreviewImage."""
    return {
        "41": {"class_type": "LoadImage", "inputs": {"image": image}},
        "95": {"class_type": "UNETLoader", "inputs": {"unet_name": UNET, "weight_dtype": "default"}},
        "103": {"class_type": "TextEncodeQwenImageEditPlus", "inputs": {"prompt": text, "image1": ["41", 0]}},
        "120": {
            "class_type": "EmptySD3LatentImage",
            "inputs": {"width": 256, "height": 384, "batch_size": 1},
        },
        "107": {
            "class_type": "KSampler",
            "inputs": {
                "seed": seed,
                "steps": steps,
                "model": ["95", 0],
                "positive": ["103", 0],
                "latent_image": ["120", 0],
            },
        },
        "102": {"class_type": "VAEDecode", "inputs": {"samples": ["107", 0]}},
        "9": {"class_type": "PreviewImage", "inputs": {"images": ["102", 0]}},
    }


def photo_bytes() -> bytes:
    image = Image.new("RGB", (300, 200), (30, 120, 200))
    image.paste((250, 40, 40), (120, 70, 180, 130))  # a red centre: it becomes the head
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


async def upload(session: aiohttp.ClientSession, origin: str, content: bytes) -> str:
    """Upload to the temp folder, as the generator does; the name LoadImage takes."""
    form = aiohttp.FormData()
    form.add_field("image", content, filename="photo.jpg", content_type="image/jpeg")
    form.add_field("type", "temp")
    form.add_field("overwrite", "true")
    async with session.post(f"{origin}/upload/image", data=form) as response:
        assert response.status == 200
        answer = await response.json()
    assert answer == {"name": "photo.jpg", "subfolder": "", "type": "temp"}
    return f"{answer['name']} [temp]"


async def queue(session: aiohttp.ClientSession, origin: str, prompt: Any, **extra: Any) -> str:
    body = {"prompt": prompt, "client_id": "me", "extra_data": extra}
    async with session.post(f"{origin}/prompt", json=body) as response:
        answer = await response.json()
        assert response.status == 200, answer
    assert answer["node_errors"] == {}
    return str(answer["prompt_id"])


async def follow(
    ws: aiohttp.ClientWebSocketResponse, prompt_id: str
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The JSON messages and binary frames until ``executing`` with node null for ``prompt_id``."""
    messages: list[dict[str, Any]] = []
    frames: list[bytes] = []
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                frames.append(message.data)
                continue
            assert message.type == aiohttp.WSMsgType.TEXT, message
            event = json.loads(message.data)
            messages.append(event)
            data = event["data"]
            if event["type"] == "executing" and data["node"] is None and data["prompt_id"] == prompt_id:
                return messages, frames


def outcome(messages: list[dict[str, Any]]) -> str:
    """How the run ended: execution_success, execution_error or execution_interrupted."""
    ends = ("execution_success", "execution_error", "execution_interrupted")
    [end] = [m["type"] for m in messages if m["type"] in ends]
    return str(end)


async def image_of(session: aiohttp.ClientSession, origin: str, output: dict[str, str]) -> Image.Image:
    async with session.get(f"{origin}/view", params=output) as response:
        assert response.status == 200 and response.content_type == "image/png"
        return Image.open(io.BytesIO(await response.read())).convert("RGB")


async def test_a_prompt_runs_with_progress_previews_and_a_history_entry() -> None:
    async with (
        FakeComfyUI(require_token=TOKEN) as comfy,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session,
    ):
        async with aiohttp.ClientSession() as stranger, stranger.get(f"{comfy.origin}/queue") as refused:
            assert refused.status == 401
        async with session.ws_connect(f"{comfy.origin}/ws?clientId=me") as ws:
            hello = await ws.receive_json()
            assert hello == {
                "type": "status",
                "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "me"},
            }
            image = await upload(session, comfy.origin, photo_bytes())
            prompt_id = await queue(session, comfy.origin, workflow(image), preview_method="auto")
            messages, frames = await follow(ws, prompt_id)

        kinds = [m["type"] for m in messages if m["type"] not in ("status", "progress_state")]
        assert kinds[:2] == ["execution_start", "execution_cached"]
        assert kinds[-3:] == ["executed", "execution_success", "executing"]  # then status, executing null
        assert messages[-2:] == [
            {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}}},
            {"type": "executing", "data": {"node": None, "prompt_id": prompt_id}},
        ]
        assert [m["data"]["value"] for m in messages if m["type"] == "progress"] == [1, 2, 3]
        assert {m["data"]["node"] for m in messages if m["type"] == "progress"} == {"107"}
        assert len(frames) == 3 == comfy.previews_sent
        for frame in frames:
            assert struct.unpack(">II", frame[:8]) == (1, 1)  # PREVIEW_IMAGE, JPEG
            assert Image.open(io.BytesIO(frame[8:])).format == "JPEG"
        [executed] = [m["data"] for m in messages if m["type"] == "executed"]
        [output] = executed["output"]["images"]
        assert re.fullmatch(r"ComfyUI_temp_[a-z]{5}_00001_\.png", output["filename"])
        assert (output["subfolder"], output["type"], executed["node"]) == ("", "temp", "9")

        async with session.get(f"{comfy.origin}/history/{prompt_id}") as response:
            entry = (await response.json())[prompt_id]
        assert entry["outputs"] == {"9": {"images": [output]}}
        assert entry["status"]["status_str"] == "success" and entry["status"]["completed"] is True
        assert entry["prompt"][1] == prompt_id and entry["prompt"][3]["client_id"] == "me"
        picture = await image_of(session, comfy.origin, output)
        assert picture.size == (256, 384)
        assert picture.getpixel((2, 2)) == BACKGROUND
        assert picture.getpixel((92, 60)) != BACKGROUND  # the head, made of the photo
        assert comfy.temp_files[output["filename"]] and comfy.uploads[0].overwrite is True
        assert comfy.authorizations.count(None) == 1 and f"Bearer {TOKEN}" in comfy.authorizations
        assert comfy.prompts[0].extra_data == {"preview_method": "auto"}


async def test_the_seed_and_the_packaging_decide_the_picture() -> None:
    async with FakeComfyUI() as comfy, aiohttp.ClientSession() as session:
        image = await upload(session, comfy.origin, photo_bytes())
        pictures = []
        async with session.ws_connect(f"{comfy.origin}/ws?clientId=me") as ws:
            for prompt in (
                workflow(image, seed=1),
                workflow(image, seed=2),
                workflow(image, seed=1),
                workflow(image, seed=1, text="Package the figure in its box."),
            ):
                prompt_id = await queue(session, comfy.origin, prompt)
                messages, frames = await follow(ws, prompt_id)
                assert frames == []  # No preview method asked: ComfyUI's default is none.
                [executed] = [m["data"] for m in messages if m["type"] == "executed"]
                pictures.append(await image_of(session, comfy.origin, executed["output"]["images"][0]))
        one, two, again, box = pictures
        assert one.tobytes() == again.tobytes() and one.tobytes() != two.tobytes()
        assert box.getpixel((2, 2)) != BACKGROUND  # full bleed
        assert len(comfy.temp_files) == 4 + 1  # the photo and four pictures, numbered on


async def test_interrupts_stop_only_the_named_prompt_unless_the_server_is_older() -> None:
    async with FakeComfyUI(step_delay=0.02) as comfy, aiohttp.ClientSession() as session:
        image = await upload(session, comfy.origin, photo_bytes())
        async with session.ws_connect(f"{comfy.origin}/ws?clientId=me") as ws:
            prompt_id = await queue(session, comfy.origin, workflow(image, steps=200))
            assert await comfy.until_running() == prompt_id
            comfy.hold()
            waiting = await queue(session, comfy.origin, workflow(image))
            async with session.post(f"{comfy.origin}/queue", json={"delete": [waiting]}) as response:
                assert response.status == 200
            assert comfy.pending == [] and comfy.queue_deletes == [waiting]
            await session.post(f"{comfy.origin}/interrupt", json={"prompt_id": waiting})
            await asyncio.sleep(0.1)
            assert comfy.running == prompt_id
            await session.post(f"{comfy.origin}/interrupt", json={"prompt_id": prompt_id})
            messages, _ = await follow(ws, prompt_id)
        [stopped] = [m["data"] for m in messages if m["type"] == "execution_interrupted"]
        assert (stopped["prompt_id"], stopped["node_id"], stopped["node_type"]) == (
            prompt_id,
            "107",
            "KSampler",
        )
        assert comfy.history[prompt_id]["status"]["status_str"] == "error"
        assert comfy.interrupts == [{"prompt_id": waiting}, {"prompt_id": prompt_id}]

    async with FakeComfyUI(step_delay=0.02, interrupt_by_id=False) as old, aiohttp.ClientSession() as session:
        image = await upload(session, old.origin, photo_bytes())
        [foreign] = old.queue_foreign(1, steps=200)
        async with session.ws_connect(f"{old.origin}/ws?clientId=me") as ws:
            prompt_id = await queue(session, old.origin, workflow(image))
            async with session.get(f"{old.origin}/queue") as response:
                state = await response.json()
            assert [item[1] for item in state["queue_running"]] == [foreign]
            assert [item[1] for item in state["queue_pending"]] == [prompt_id]
            await session.post(f"{old.origin}/interrupt", json={"prompt_id": prompt_id})  # Body ignored.
            messages, _ = await follow(ws, prompt_id)
        assert outcome(messages) == "execution_success"
        assert old.history[foreign]["status"]["status_str"] == "error"
        assert old.history[prompt_id]["status"]["status_str"] == "success"


async def test_prompts_the_server_cannot_run_are_refused_as_comfyui_refuses_them() -> None:
    async with FakeComfyUI() as comfy, aiohttp.ClientSession() as session:
        image = await upload(session, comfy.origin, photo_bytes())

        async def refusal(prompt: Any) -> dict[str, Any]:
            async with session.post(
                f"{comfy.origin}/prompt", json={"prompt": prompt, "client_id": "me"}
            ) as answer:
                assert answer.status == 400
                return dict(await answer.json())

        refused = await refusal(workflow("gone.png [temp]"))
        assert refused["error"]["type"] == "prompt_outputs_failed_validation"
        assert refused["node_errors"]["41"] == {
            "errors": [
                {
                    "type": "custom_validation_failed",
                    "message": "Custom validation failed for node",
                    "details": "image - Invalid image file: gone.png [temp]",
                    "extra_info": {"input_name": "image"},
                }
            ],
            "dependent_outputs": ["9"],
            "class_type": "LoadImage",
        }
        comfy.remove_model(UNET)
        refused = await refusal(workflow(image))
        [error] = refused["node_errors"]["95"]["errors"]
        assert (error["type"], error["message"]) == ("value_not_in_list", "Value not in list")
        assert error["details"].startswith(f"unet_name: '{UNET}' not in")
        comfy.remove_node("UNETLoader")
        refused = await refusal(workflow(image))
        assert refused["error"]["type"] == "missing_node_type"
        assert (
            refused["error"]["message"]
            == "Node 'UNETLoader' not found. The custom node may not be installed."
        )
        assert refused["node_errors"] == {}
        assert comfy.prompts == [] and comfy.history == {}


async def test_an_out_of_memory_fails_the_prompt_and_the_next_one_runs() -> None:
    async with FakeComfyUI() as comfy, aiohttp.ClientSession() as session:
        image = await upload(session, comfy.origin, photo_bytes())
        comfy.out_of_memory_next()
        async with session.ws_connect(f"{comfy.origin}/ws?clientId=me") as ws:
            failing = await queue(session, comfy.origin, workflow(image))
            messages, _ = await follow(ws, failing)
            [error] = [m["data"] for m in messages if m["type"] == "execution_error"]
            assert error["exception_type"] == OOM_TYPE == "torch.OutOfMemoryError"
            assert "out of memory" in error["exception_message"]
            assert (error["node_id"], error["node_type"], error["current_inputs"]["seed"]) == (
                "107",
                "KSampler",
                [7],
            )
            assert not [m for m in messages if m["type"] == "progress"]
            assert comfy.history[failing]["status"] == {
                "status_str": "error",
                "completed": False,
                "messages": comfy.history[failing]["status"]["messages"],
            }
            succeeding = await queue(session, comfy.origin, workflow(image))
            messages, _ = await follow(ws, succeeding)
            assert outcome(messages) == "execution_success"


async def test_a_stalled_server_times_out_its_clients_and_still_closes_promptly() -> None:
    comfy = FakeComfyUI()
    await comfy.start()
    try:
        comfy.stall()
        timeout = aiohttp.ClientTimeout(total=0.3)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            with pytest.raises(TimeoutError):
                await session.get(f"{comfy.origin}/queue")
    finally:
        started = time.monotonic()
        await comfy.close()
    assert time.monotonic() - started < 3


async def test_a_crash_drops_the_websocket_and_refuses_connections() -> None:
    async with FakeComfyUI() as comfy, aiohttp.ClientSession() as session:
        image = await upload(session, comfy.origin, photo_bytes())
        origin = comfy.origin
        comfy.die_after_step(2)
        async with session.ws_connect(f"{origin}/ws?clientId=me") as ws:
            await queue(session, origin, workflow(image, steps=5))
            progress = []
            async with asyncio.timeout(5):
                while (message := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
                    event = json.loads(message.data)
                    if event["type"] == "progress":
                        progress.append(event["data"]["value"])
            assert message.type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.ERROR,
            )
            assert progress == [1, 2]
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{origin}/queue")
