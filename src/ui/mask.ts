/**
 * Phone numbers as the explorer shows them: the last four digits unless the page's "show
 * numbers" switch is on. Columns are masked with the logger's maskNumber; stored bodies (raw
 * receipts, call details) are masked by key, in their JSON or XML text, for every key that holds
 * a number in Alibaba's receipts and details (caller, callee, caller_show_num, callerShowNumber,
 * …, phone, number).
 */
import { maskNumber } from "../logger.js";

export { maskNumber };

export const shownNumber = (value: string | null, show: boolean): string | null =>
  value === null || show ? value : maskNumber(value);

// A key naming a number, its separator (JSON `": "`, XML `>`, form `=`), then the digits.
const NUMBER_IN_TEXT =
  /((?:caller|callee|phone|number|show_?num)[\w]*["']?\s*(?::|=|>)\s*["']?)(\+?\d[\d\- ]{3,}\d)/gi;

export function maskText(text: string, show: boolean): string {
  return show
    ? text
    : text.replace(NUMBER_IN_TEXT, (_m, key: string, n: string) => key + maskNumber(n));
}
