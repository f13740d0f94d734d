// Errors the CLI reports as one clear line (no stack trace): bad input files, bad options.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
