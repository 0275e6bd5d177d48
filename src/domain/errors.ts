/** Typed domain errors with stable codes. `message` is safe to show to users; never raw DB text. */
export class DomainError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  constructor(code: string, status: number, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = opts.details;
  }
}

/** Field map: field name → first message for that field. */
export type FieldErrors = Record<string, string>;

export class ValidationFailed extends DomainError {
  readonly fields: FieldErrors;
  constructor(fields: FieldErrors, message = 'Please correct the highlighted fields.', code = 'VALIDATION_FAILED') {
    super(code, 422, message, { details: { fields } });
    this.fields = fields;
  }
}
export class BadRequest extends DomainError {
  constructor(message = 'The request could not be understood.', code = 'BAD_REQUEST') {
    super(code, 400, message);
  }
}
export class Unauthenticated extends DomainError {
  constructor(message = 'Please sign in.', code = 'UNAUTHENTICATED') {
    super(code, 401, message);
  }
}
export class NotFound extends DomainError {
  constructor(message = 'Not found.', code = 'NOT_FOUND') {
    super(code, 404, message);
  }
}
export class Forbidden extends DomainError {
  constructor(message = 'You do not have permission to do that.', code = 'FORBIDDEN') {
    super(code, 403, message);
  }
}
export class Conflict extends DomainError {
  constructor(message = 'That conflicts with existing data.', code = 'CONFLICT', details?: Record<string, unknown>) {
    super(code, 409, message, { details });
  }
}
export class InvalidTransition extends DomainError {
  constructor(message = 'That action is not possible in the current state.', code = 'INVALID_TRANSITION') {
    super(code, 409, message);
  }
}
export class TooManyRequests extends DomainError {
  constructor(message = 'Too many attempts. Please wait a little and try again.', code = 'RATE_LIMITED') {
    super(code, 429, message);
  }
}
