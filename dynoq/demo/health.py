"""Waiting for a freshly started server to answer, shared by both acts of the demo."""

from __future__ import annotations

import asyncio
import time

import aiohttp


async def wait_for_health(session: aiohttp.ClientSession, base: str) -> None:
    """Returns once ``GET {base}/health`` answers 200; raises after 30 s of refused connections."""
    deadline = time.monotonic() + 30
    while True:
        try:
            async with session.get(f"{base}/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)
