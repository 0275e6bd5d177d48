/**
 * The common-password list: ~49,000 passwords seen most often in breaches, shipped offline with
 * @zxcvbn-ts/language-common (MIT). Loaded once, on first use, into a Set of lower-case entries.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

let common: Set<string> | null = null;

/** True when `password` (compared case-insensitively) is on the common-password list. */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common.has(password.toLowerCase());
}
