// Conductor's JavaScript SDK clients, unchanged, against CONDUCTOR_SERVER_URL: an event
// handler's CRUD, a WAIT task completed by reference (updateTaskByRefName, updateTaskSync),
// searches. Argument: the name of a registered workflow whose only task is a WAIT "hold".
// Prints one JSON document of what it saw.
const {
  orkesConductorClient,
  EventClient,
  TaskClient,
  WorkflowExecutor,
} = require("@io-orkes/conductor-javascript");

async function main() {
  const name = process.argv[2];
  const client = await orkesConductorClient({ serverUrl: process.env.CONDUCTOR_SERVER_URL });
  const events = new EventClient(client);
  const executor = new WorkflowExecutor(client);
  const tasks = new TaskClient(client);
  const seen = {};

  const handler = {
    name: `${name}_handler`,
    event: `conductor:${name}:hold`,
    active: true,
    actions: [{ action: "start_workflow", start_workflow: { name, input: {} } }],
  };
  await events.addEventHandler(handler);
  seen.handlers = (await events.getEventHandlersForEvent(handler.event, true)).map((h) => h.name);
  await events.removeEventHandler(handler.name);
  seen.afterRemove = (await events.getAllEventHandlers()).filter((h) => h.name === handler.name);

  const first = await executor.startWorkflow({ name, input: { n: 1 }, correlationId: "js-1" });
  const second = await executor.startWorkflow({ name, input: { n: 2 }, correlationId: "js-2" });
  seen.byRef = await executor.updateTaskByRefName("hold", first, "COMPLETED", { via: "ref" });
  const synced = await tasks.updateTaskSync(second, "hold", "COMPLETED", { via: "sync" });
  seen.syncStatus = synced.status;
  // the update is decided by a decider process: wait for it, with a deadline
  let wf = await executor.getWorkflow(first, true);
  for (let deadline = Date.now() + 10000; wf.status === "RUNNING" && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    wf = await executor.getWorkflow(first, true);
  }
  seen.first = { status: wf.status, output: wf.tasks[0].outputData };
  const found = await executor.search(0, 10, "correlationId = js-1 OR correlationId = js-2", "*", "startTime:ASC");
  seen.search = found.results.map((r) => r.workflowId);
  seen.ids = [first, second];
  const taskSearch = await tasks.search(0, 10, undefined, "*", `workflowId = ${first}`);
  seen.taskSearch = taskSearch.results.map((t) => [t.taskType, t.status]);
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
