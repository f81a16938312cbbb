/**
 * Exit codes of the `rkvs` command line, and the error a command throws to end with one. Kept apart
 * from src/cli.ts so the commands (src/commands/) and the program that registers them do not import
 * each other.
 */

/** Success. */
export const EXIT_OK = 0;
/** A failure: a configuration failed, a regression, a consistency violation, a check that did not hold. */
export const EXIT_FAILURE = 1;
/** Usage or configuration error: the message names the flag, field, variable, replica or key to fix. */
export const EXIT_USAGE = 2;
/** `rkvs check` could not decide within its time limit. */
export const EXIT_UNDECIDED = 3;
/** Interrupted (Ctrl-C, SIGTERM); results measured so far are written. */
export const EXIT_INTERRUPTED = 130;

/** Thrown by a command to end with a given exit code after its output is written. */
export class ExitCode extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'ExitCode';
  }
}
