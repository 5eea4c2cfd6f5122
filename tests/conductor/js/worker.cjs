// A worker of Conductor's JavaScript SDK, unchanged: polls CONDUCTOR_SERVER_URL for the task
// type given as the first argument and answers {greeting: "hello <who> from js"}.
const { orkesConductorClient, TaskManager } = require("@io-orkes/conductor-javascript");

async function main() {
  const taskDefName = process.argv[2];
  const client = await orkesConductorClient({ serverUrl: process.env.CONDUCTOR_SERVER_URL });
  const manager = new TaskManager(
    client,
    [
      {
        taskDefName,
        execute: async (task) => ({
          status: "COMPLETED",
          outputData: { greeting: `hello ${task.inputData.who} from js` },
        }),
      },
    ],
    { options: { pollInterval: 20, concurrency: 1, workerID: "js-worker" } },
  );
  manager.startPolling();
  console.log("polling");
  process.on("SIGTERM", async () => {
    await manager.stopPolling();
    process.exit(0);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
