/**
 * Every command of the README's "Commands", with --help. Each action lives in its own module and is
 * imported lazily so that `--help` stays fast and commands do not load each other's deps.
 */
import { Command, InvalidArgumentError, Option } from "commander";

import { ROLES, type Role } from "../app/roles.js";
import { registerDeliveriesCommand } from "./deliveries.js";
import { parseRetention, type Retention } from "./prune.js";
import { recordingsCommand } from "./recordings.js";

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new InvalidArgumentError("must be a port number from 0 to 65535");
  }
  return n;
}

function intIn(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
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
    .command("prune")
    .description(
      "drop the receipts, call_events, events and deliveries month partitions older than a retention period, and the recordings received before it with their stored objects (calls and reports stay)",
    )
    .requiredOption(
      "--older-than <duration>",
      "retention: drop months that ended before now minus this (e.g. 90d, 12w, 6mo, 1y)",
      parseRetention,
    )
    .option("--dry-run", "only list the partitions that would be dropped")
    .addHelpText(
      "after",
      `
Months are Beijing calendar months; a partition is dropped only when its whole month is older
than the cutoff. A receipts partition that still holds receipts not yet applied is kept (and
named). The dropped receipts' dedup keys are forgotten too: a receipt delivered again after its
month was pruned is stored as new.`,
    )
    .action(async (opts: { olderThan: Retention; dryRun?: boolean }) => {
      const { pruneCommand } = await import("./prune.js");
      await pruneCommand(opts);
    });

  program
    .command("replay")
    .description(
      "ingest receipt archives (JSON arrays, NDJSON/JSONL, MNS message dumps in JSON or XML; plain or .gz; directories recursively)",
    )
    .argument("<paths...>", "files or directories")
    .option(
      "--type <messageType>",
      "message type of every receipt read (default: from the data or file name)",
    )
    .option(
      "--no-reconcile",
      "mark the replayed calls reconcile_status=skipped (no QueryCallDetailByCallId)",
    )
    .option(
      "--apply",
      "apply the receipts to calls in this process (the default; no daemon needed)",
    )
    .option(
      "--no-apply",
      "only store and queue the receipts; the persist workers of a running daemon apply them",
    )
    .option("--wait", "leave the receipts to the persist workers and wait until they are applied")
    .option("--batch-size <n>", "receipts per batch", intIn(1, 1000), 500)
    .option("--concurrency <n>", "batches in flight at once", intIn(1, 32), 4)
    .option("--no-progress", "no progress output on stderr")
    .addHelpText(
      "after",
      `
Message type of a receipt: --type, else its (or its MNS message's) MessageType property, else a
type named in the file or directory name (e.g. VoiceReport-2026-11.ndjson.gz), else its fields.
Lines that cannot be parsed go to rejected_receipts with file:line; the run goes on.
Replaying the same archives again adds nothing.`,
    )
    .action(
      async (
        paths: string[],
        opts: {
          type?: string;
          reconcile: boolean;
          apply?: boolean;
          wait?: boolean;
          batchSize: number;
          concurrency: number;
          progress: boolean;
        },
      ) => {
        const { replayCommand } = await import("./replay.js");
        await replayCommand(paths, opts);
      },
    );

  program
    .command("report")
    .description(
      "print a report: daily, hourly, status, outcomes, numbers, out-id <id>, robot-tasks, reconcile, dtmf",
    )
    .argument(
      "<name>",
      "report name: daily, hourly, status, outcomes, numbers, out-id, robot-tasks, reconcile, dtmf",
    )
    .argument("[arg]", "argument of the report (out-id: the out_id)")
    .option("--from <date>", "first Beijing date, YYYY-MM-DD (inclusive)")
    .option("--to <date>", "last Beijing date, YYYY-MM-DD (inclusive)")
    .option(
      "--direction <direction>",
      "only outbound or inbound calls (daily, hourly, status, outcomes, reconcile, dtmf)",
    )
    .option(
      "--product <product>",
      "only calls of one product: notification, verification, ivr, smart, robot, inbound (all but out-id and robot-tasks)",
    )
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["table", "csv", "json"])
        .default("table"),
    )
    .option("--bom", "csv: start with a UTF-8 byte order mark, so Excel shows Chinese text")
    .action(
      async (
        name: string,
        arg: string | undefined,
        opts: {
          from?: string;
          to?: string;
          direction?: string;
          product?: string;
          format: "table" | "csv" | "json";
          bom?: boolean;
        },
      ) => {
        const { reportCommand } = await import("./report.js");
        await reportCommand(name, arg, opts);
      },
    );

  program
    .command("simulate")
    .description("run the built-in Alibaba Cloud simulator (MNS, STS token API, call detail API)")
    .option("--port <port>", "port to listen on", port, 9100)
    .option(
      "--host <host>",
      "address to listen on (0.0.0.0 to serve other hosts, e.g. in compose)",
      "127.0.0.1",
    )
    .option(
      "--traffic <calls>",
      "generate this many calls per second (each ended within the last second) and deliver their receipts",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 1000) {
          throw new InvalidArgumentError("must be a whole number from 0 to 1000");
        }
        return n;
      },
    )
    .option(
      "--push-url <url>",
      "with --traffic: push half of the receipts here ({messageType} is replaced)",
    )
    .option(
      "--credentials-file <file>",
      "keep the generated AccessKey pair in this file (written once, mode 600) and reuse it on every start",
    )
    .action(
      async (opts: {
        port: number;
        host: string;
        traffic?: number;
        pushUrl?: string;
        credentialsFile?: string;
      }) => {
        const { simulateCommand } = await import("./simulate.js");
        await simulateCommand(opts);
      },
    );

  program
    .command("demo")
    .description(
      "end to end on the simulator, in a database of its own: generate calls, deliver, reconcile, print reports",
    )
    .option(
      "--calls <n>",
      "how many calls to generate",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 5000) {
          throw new InvalidArgumentError("must be a whole number from 1 to 5000");
        }
        return n;
      },
      300,
    )
    .option(
      "--clean",
      "drop the databases (and queue keys) earlier demo runs created beside DATABASE_URL's, then exit",
    )
    .action(async (opts: { calls: number; clean?: boolean }) => {
      const { demoCommand } = await import("./demo.js");
      await demoCommand(opts);
    });

  program
    .command("dialogue")
    .description(
      "print the conversation of one smart call (transcripts view) and what was answered",
    )
    .argument("<call_id>", "the call's call_id")
    .addOption(
      new Option("--format <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .action(async (callId: string, opts: { format: "table" | "json" }) => {
      const { dialogueCommand } = await import("./dialogue.js");
      await dialogueCommand(callId, { format: opts.format });
    });

  program.addCommand(recordingsCommand());

  registerDeliveriesCommand(program);
  return program;
}
