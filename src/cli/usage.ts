/** Help texts, one per command; `remon help` and `remon CMD --help` print them. */
export const USAGE: Record<string, string> = {
  main: `remon — monitoring from one YAML file

Usage:
  remon [run] [FILE]          run the node (FILE defaults to ./monitor.yaml)
  remon check [FILE]          validate FILE; exit 0 valid, 2 invalid
  remon once [FILE] [--json]  run every active block once, print the results, exit
  remon schema                print the JSON Schema of monitor.yaml (for editors)
  remon rrd create|update|fetch|info|last FILE ...
                              rrdtool-compatible commands on remon's RRD files
  remon send NAME [--start|--fail|--exit-code N] [--message TEXT]
                              signal a heartbeat of a running node
  remon config NAME [--period D|--schedule CRON] [--grace D] [--tz TZ] [--enable|--disable] ...
                              create or edit a heartbeat on a running node
  remon status [--json]       blocks, heartbeats, SLAs and alerts of a running node, as tables
  remon alerts [ack ID]       a running node's alerts; acknowledge one
  remon rpc METHOD [JSON]     call a running node's JSON-RPC method, print the JSON result
  remon help [COMMAND]        this text, or a command's

send, config, status, alerts and rpc talk to the node at --url (or REMON_URL, default
http://127.0.0.1:2001) with --token (or REMON_TOKEN) when it has one.

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
  send: `Usage: remon send NAME [--start | --fail | --exit-code N] [--message TEXT] [--rid ID]
                  [--url URL] [--token TOKEN]

Signals heartbeat NAME of a running node: a success (no option), the start of a run
(--start), a failure (--fail), or a job's exit code (--exit-code N: 0 is a success,
1-255 a failure). --message sends TEXT with it (--message - reads it from standard
input), shown in the node's history; the node keeps the first 10 kB. --rid pairs the
start and the end of one run when runs overlap.

  backup.sh; remon send backup --exit-code $?
  remon send etl --start --rid "$$" && etl.sh 2>&1 | remon send etl --rid "$$" --message -

The node is --url or REMON_URL (default http://127.0.0.1:2001); signals need no token.
Exits 0 when the node accepted the signal (it is stored durably then), 1 when the node
refused it (an unknown heartbeat) or could not be reached, 2 on a usage error.
`,
  config: `Usage: remon config NAME [--period D | --schedule CRON [--tz TZ]] [--grace D]
                    [--max-runtime D] [--description TEXT] [--enable | --disable]
                    [--json] [--url URL] [--token TOKEN]

Creates heartbeat NAME on a running node, or edits it. --period D: a success is due D
after the last one (rolling); --schedule CRON: due at each fire time of a cron expression
("0 3 * * *", @daily; 6 fields for seconds), in --tz (an IANA zone, default UTC).
--grace D: how long late is not yet down (default 1m). --max-runtime D: a run longer
than D from its start signal is down (default: grace). --disable pauses it (no
deadlines), --enable resumes it. Durations: 30s, 5m, 1h, 1d, 1w.

The edit is stored in the node's data directory and survives restarts. It shows as
differing from monitor.yaml until the file says the same; the command prints the block
to put there.

The node is --url or REMON_URL (default http://127.0.0.1:2001), with --token or
REMON_TOKEN when it has a token. Exits 0 on success, 1 when the node refused the edit
or could not be reached, 2 on a usage error (or values the node found invalid).
`,
  status: `Usage: remon status [--json] [--url URL] [--token TOKEN]

Prints the blocks, the heartbeats, the SLAs and the alerts of a running node as tables
(with --json, as JSON): each block's status, last run and fields; each heartbeat's state,
schedule, last success, next deadline, consecutive misses, and whether it differs from
monitor.yaml; each SLA's state, since when, severity, and the values of its last test; each
alert's state and since when.

The node is --url or REMON_URL (default http://127.0.0.1:2001). Exits 0, or 1 when the
node could not be reached.
`,
  alerts: `Usage: remon alerts [--state STATE] [--limit N] [--json] [--url URL] [--token TOKEN]
       remon alerts ack ID [--by NAME] [--comment TEXT] [--json] [--url URL] [--token TOKEN]

Lists the alerts of a running node, newest first: id, SLA (or heartbeat), state, severity,
the escalation level told, since when, and the message (why it is not told, when a
silence or depends_on holds it). --state is active (the default: pending, firing,
acknowledged), pending, firing, acknowledged, resolved or all; --limit caps the list
(default 100).

ack acknowledges alert ID: its escalation stops and those who were told hear who took it
(--by NAME, default USER@HOST; --comment TEXT is kept in its history). If it is not
resolved within its escalation's ack_timeout, escalation resumes.

The node is --url or REMON_URL (default http://127.0.0.1:2001), with --token or
REMON_TOKEN when it has a token (ack needs it). Exits 0 on success, 1 when the node
refused (an unknown alert, one resolved or acknowledged already) or could not be reached,
2 on a usage error.
`,
  rpc: `Usage: remon rpc METHOD [JSON] [--compact] [--url URL] [--token TOKEN]

Calls METHOD of a running node over JSON-RPC (POST /rpc) with the params JSON, a JSON
object (- reads it from standard input), and prints the result as JSON (--compact: on
one line). Methods are the node's operations (area.verb), e.g.:

  remon rpc node.info
  remon rpc blocks.run '{"name": "homepage"}'
  remon rpc series.fetch '{"name": "homepage.total_ms", "points": 100}'
  remon rpc counter.incr '{"name": "deploys"}'
  remon rpc state.set '{"bucket": "release", "key": "version", "value": "1.4.2"}'

docs/http.md lists the methods. The node is --url or REMON_URL (default
http://127.0.0.1:2001), with --token or REMON_TOKEN when it has a token (writes need it).
Exits 0 with a result; 2 on a usage error or when the node says the call is wrong (an
unknown method, invalid params); 1 when the node refused or failed the call (shown with its
JSON-RPC code and REMON_ERR_ code) or could not be reached.
`,
  schema: `Usage: remon schema

Prints the JSON Schema of monitor.yaml, built-in block types included. Point your editor's
YAML language server at it (schema/monitor.schema.json in the repository is the same).
`,
};
