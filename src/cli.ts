#!/usr/bin/env node
/**
 * The `voice-receipts` command. This file is the CLI edge: every error ends here and becomes
 * an exit code (0 ok, 1 runtime failure, 2 bad usage or configuration).
 */
import { CommanderError } from "commander";

import { explainError } from "./cli/explainError.js";
import { buildProgram } from "./cli/program.js";
import { AppError, ConfigError, coerceError } from "./errors.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`voice-receipts: ${err.message}\n`);
      return EXIT_USAGE;
    }
    // Failures of the surroundings (PostgreSQL unreachable, a port taken, no schema), told in
    // terms of the setting involved.
    const explained = explainError(err, process.env);
    if (explained) {
      process.stderr.write(`voice-receipts: ${explained.message}\n`);
      return explained.code === 2 ? EXIT_USAGE : EXIT_FAILURE;
    }
    const e = coerceError(err);
    const code = e instanceof AppError ? ` [${e.code}]` : "";
    process.stderr.write(`voice-receipts: ${e.message}${code}\n`);
    return EXIT_FAILURE;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`voice-receipts: ${coerceError(err).message}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
