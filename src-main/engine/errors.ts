/**
 * Errors a person can cause (a bad photo, a missing model, a locked catalogue).
 * Each carries a stable code for the UI and a sentence saying what to do; none should
 * ever be shown with a stack trace.
 */
export type UserErrorCode =
  | 'FILE_NOT_FOUND'
  | 'FILE_EMPTY'
  | 'NOT_AN_IMAGE'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_TOO_LARGE'
  | 'MODEL_MISSING'
  | 'MODEL_CORRUPT'
  | 'MODEL_MISMATCH'
  | 'MODEL_UNKNOWN'
  | 'PROVIDER_UNAVAILABLE'
  | 'CATALOGUE_LOCKED'
  | 'CATALOGUE_TOO_NEW'
  | 'CATALOGUE_INVALID'
  | 'CATALOGUE_NEEDS_UPGRADE'
  | 'CATALOGUE_NOT_EMBEDDED'
  | 'MANIFEST_INVALID'
  | 'INVALID_ARGUMENT'
  | 'CANCELLED';

/** A UserError as plain data, to cross a thread or process boundary. */
export interface UserErrorData {
  code: UserErrorCode;
  what: string;
  hint: string;
}

export class UserError extends Error {
  override readonly name = 'UserError';

  constructor(
    readonly code: UserErrorCode,
    /** What happened. */
    readonly what: string,
    /** What the person should do about it. */
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(`${what} ${hint}`.trim(), options);
  }

  toData(): UserErrorData {
    return { code: this.code, what: this.what, hint: this.hint };
  }

  static fromData(d: UserErrorData): UserError {
    return new UserError(d.code, d.what, d.hint);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
