/**
 * The common-password list: ~49,000 passwords seen most often in breaches, shipped offline with
 * @zxcvbn-ts/language-common (MIT). Loaded once, on first use (a password being set), into a Set of
 * lower-case entries: a server that never sees a password change never holds the list (~6 MB).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let common: Set<string> | null = null;

/** True when `password` (compared case-insensitively) is on the common-password list. */
export function isCommonPassword(password: string): boolean {
  if (!common) {
    const { dictionary } = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  }
  return common.has(password.toLowerCase());
}
