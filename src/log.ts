import pino from 'pino';

/** Logger is remon's structured logger (pino): `log.info({ block }, 'block failed')`. */
export type Logger = pino.Logger;

/** LogOptions chooses the level and the file descriptor logs go to (1 stdout, 2 stderr). */
export interface LogOptions {
  level?: string;
  fd?: 1 | 2;
}

/** createLogger builds the process logger; REMON_LOG_LEVEL overrides the level. */
export function createLogger(options: LogOptions = {}): Logger {
  const level = process.env.REMON_LOG_LEVEL ?? options.level ?? 'info';
  return pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: options.fd ?? 1, sync: true }),
  );
}

/** silentLogger is for tests and benchmarks that do not want output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
