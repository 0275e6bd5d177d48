import { z } from 'zod';
import { ValidationFailed, type FieldErrors } from './errors.ts';
import { isCommonPassword } from './auth/common-passwords.ts';

/** Parses raw input with a zod schema; zod issues become ValidationFailed with a field map. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new ValidationFailed(fieldErrors(result.error));
}

/** A form parsed field by field: the whole result when every field is valid, else the fields that are. */
export interface ParsedForm<T> {
  /** Set when the whole form parsed. */
  data?: T;
  /** The fields that parsed on their own (for checks against the database while other fields are wrong). */
  values: Partial<T>;
  /** Field name → first message; empty when `data` is set. */
  fields: FieldErrors;
}

/**
 * Parses a form without throwing. When it fails, each field of the object schema is parsed on its own
 * so that the valid ones can still be checked (a taken name is reported with a bad email, not after it).
 */
export function parseForm<S extends z.ZodObject>(schema: S, raw: unknown): ParsedForm<z.output<S>> {
  const result = schema.safeParse(raw);
  if (result.success) return { data: result.data, values: result.data, fields: {} };
  const input = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const values: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const one = field.safeParse(input[key]);
    if (one.success) values[key] = one.data;
  }
  return { values: values as Partial<z.output<S>>, fields: fieldErrors(result.error) };
}

export function fieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.map(String).join('.') : '_';
    if (!(key in out)) out[key] = issue.message;
  }
  return out;
}

// Shared field schemas. A field that must be one value is refused when it arrives as an array or object.
export const trimmed = (max: number, label = 'This field') =>
  z.string({ error: `${label} must be text` }).trim().max(max, `${label} must be at most ${max} characters`);
export const requiredText = (max: number, label = 'This field') => trimmed(max, label).min(1, `${label} is required`);
export const optionalText = (max: number, label = 'This field') =>
  z.preprocess((v) => (v === '' || v === null ? undefined : v), trimmed(max, label).optional());
export const email = z
  .string({ error: 'Enter an email address' })
  .trim()
  .toLowerCase()
  .max(191, 'Email is too long')
  .pipe(z.email({ error: 'Enter a valid email address' }));
export const id = z.coerce.number({ error: 'Invalid id' }).int('Invalid id').positive('Invalid id');
/** A list's page number from the query string (absent or empty: the first). */
export const pageNumber = z.preprocess((v) => (v === '' || v === undefined ? 1 : v), z.coerce.number().int().min(1).max(100_000));
export const optionalId = z.preprocess((v) => (v === '' || v === null || v === '0' ? undefined : v), id.optional());
/** The most characters a signature (an agent's, a department's) may have; a line break counts as one. */
export const SIGNATURE_MAX = 2000;
/**
 * A signature from a form (agents.signature, departments.signature: text): line breaks as \n (a
 * browser sends \r\n), trimmed, at most SIGNATURE_MAX characters; empty or absent → null (none).
 */
export const signatureText = z
  .preprocess((v) => (typeof v === 'string' ? v.replace(/\r\n?/g, '\n') : v), trimmed(SIGNATURE_MAX, 'Signature'))
  .optional()
  .transform((v) => v || null);
/** HTML checkbox: present ('on', '1', 'true') means true. */
export const checkbox = z.preprocess((v) => v === 'on' || v === '1' || v === 'true' || v === true, z.boolean());
/**
 * A password: at least 10 characters, at most 72 bytes (bcrypt's limit: refused, never cut), and not
 * on the common-password list.
 */
export const password = z
  .string({ error: 'Enter a password' })
  .min(10, 'Use at least 10 characters')
  .refine((p) => Buffer.byteLength(p, 'utf8') <= 72, 'Use at most 72 bytes (bcrypt cannot check more)')
  .refine((p) => !isCommonPassword(p), 'This password is too common; choose another');
