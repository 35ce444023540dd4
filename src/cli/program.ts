/**
 * Every command of CONTRACT §2, with --help. Each action lives in its own module and is
 * imported lazily so that `--help` stays fast and commands do not load each other's deps.
 */
import { Command, InvalidArgumentError, Option } from "commander";

import { NotImplementedError } from "../errors.js";

export const ROLES = ["all", "ingest", "worker"] as const;
export type Role = (typeof ROLES)[number];

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new InvalidArgumentError("must be a port number from 0 to 65535");
  }
  return n;
}

export function buildProgram(): Command {
  const program = new Command("voice-receipts")
    .description(
      "Ingest Alibaba Cloud Voice Service receipts (MNS + HTTP push) into PostgreSQL, reconciled against QueryCallDetailByCallId",
    )
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
    });

  program
    .command("run")
    .description("run the daemon (applies migrations first)")
    .addOption(
      new Option("--role <role>", "which parts to run in this process")
        .choices(ROLES)
        .default("all"),
    )
    .action(async (opts: { role: Role }) => {
      const { runDaemon } = await import("../main.js");
      await runDaemon({ role: opts.role });
    });

  program
    .command("migrate")
    .description("apply database migrations and exit")
    .action(async () => {
      const { migrateCommand } = await import("./migrate.js");
      await migrateCommand();
    });

  program
    .command("replay")
    .description("ingest receipt archives (JSON array, NDJSON, MNS dumps; .gz or plain)")
    .argument("<paths...>", "files or directories")
    .option("--type <messageType>", "message type of every receipt read")
    .option("--no-reconcile", "do not schedule reconciliation for replayed calls")
    .action(() => {
      throw new NotImplementedError("`replay` (issue: replay, reporting and demo)");
    });

  program
    .command("report")
    .description("print a report: daily, status, out-id <id>, robot-tasks, reconcile, dtmf")
    .argument("<name>", "report name")
    .argument("[arg]", "argument of the report (out-id)")
    .option("--from <date>", "first Beijing date (YYYY-MM-DD)")
    .option("--to <date>", "last Beijing date (YYYY-MM-DD)")
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["table", "csv", "json"])
        .default("table"),
    )
    .action(() => {
      throw new NotImplementedError("`report` (issue: replay, reporting and demo)");
    });

  program
    .command("simulate")
    .description("run the built-in Alibaba Cloud simulator (MNS, STS token API, call detail API)")
    .option("--port <port>", "port to listen on", port, 9100)
    .option(
      "--host <host>",
      "address to listen on (0.0.0.0 to serve other hosts, e.g. in compose)",
      "127.0.0.1",
    )
    .action(async (opts: { port: number; host: string }) => {
      const { simulateCommand } = await import("./simulate.js");
      await simulateCommand(opts);
    });

  program
    .command("demo")
    .description("end to end on the simulator: generate calls, deliver, reconcile, print reports")
    .action(() => {
      throw new NotImplementedError("`demo` (issue: replay, reporting and demo)");
    });

  return program;
}
