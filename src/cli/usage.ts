/** Help texts, one per command; `remon help` and `remon CMD --help` print them. */
export const USAGE: Record<string, string> = {
  main: `remon — monitoring from one YAML file

Usage:
  remon [run] [FILE]          run the node (FILE defaults to ./monitor.yaml)
  remon check [FILE]          validate FILE; exit 0 valid, 2 invalid
  remon once [FILE] [--json]  run every active block once, print the results, exit
  remon schema                print the JSON Schema of monitor.yaml (for editors)
  remon help [COMMAND]        this text, or a command's

Exit codes: 0 ok, 1 runtime failure (or, for once, a failed block), 2 usage or config error.
`,
  run: `Usage: remon [run] [FILE]

Runs the node described by FILE (default ./monitor.yaml) until SIGINT or SIGTERM, then
stops cleanly: runs in flight are aborted, everything is flushed, and it exits 0.
Logs are JSON lines on stdout; REMON_LOG_LEVEL=debug shows more.
`,
  check: `Usage: remon check [FILE]

Validates FILE (default ./monitor.yaml) without running it. Every problem is printed as
FILE:LINE:COL: path: message. Exits 0 when valid, 2 when not.
`,
  once: `Usage: remon once [FILE] [--json]

Runs every active block of FILE once, at the same time, and prints one result per block:
a table, or with --json a JSON array of results. Exits 0 when every block is ok, 1 when
any failed, 2 on a config error.
`,
  schema: `Usage: remon schema

Prints the JSON Schema of monitor.yaml, built-in block types included. Point your editor's
YAML language server at it (schema/monitor.schema.json in the repository is the same).
`,
};
