"""An example worker for compose.yaml: acknowledges every message of the queue "jobs"."""

import dynoq

worker = dynoq.Worker()


@worker.handler("jobs", unack_timeout=30, max_deliveries=5)
async def handle(message: dynoq.Message) -> None:
    print("handled", message.id, flush=True)
