import { NotImplementedError } from "../errors.js";

export async function simulateCommand(_opts: { port: number }): Promise<void> {
  throw new NotImplementedError("`simulate` (issue: built-in Alibaba Cloud simulator)");
}
