/**
 * The built (validated, defaulted, plain-data) forms of the alerting sections of
 * monitor.yaml: contacts, schedules, escalations, silences and notify. Durations are
 * milliseconds, times epoch ms. docs/alerts.md describes the keys.
 */

/** WebhookPreset: the body shapes a webhook contact can send. */
export type WebhookPreset = 'json' | 'slack' | 'discord' | 'ntfy' | 'pagerduty';

/** WebhookConfig is a contact's `webhook:`. */
export interface WebhookConfig {
  url: string;
  preset: WebhookPreset;
  /** A Liquid template of the body (values JSON-escaped); replaces the preset's body. */
  template?: string;
  contentType: string;
  headers: Record<string, string>;
  /** PagerDuty's integration key (preset pagerduty). */
  routingKey?: string;
  timeoutMs: number;
}

/** CommandConfig is a contact's `command:`: argv (no shell), or a shell line. */
export interface CommandConfig {
  argv: string[];
  timeoutMs: number;
}

/** ContactConfig is one `contacts:` entry: the ways a person or a system is told. */
export interface ContactConfig {
  name: string;
  webhook?: WebhookConfig;
  email: string[];
  command?: CommandConfig;
  /** Notifications are written to the node's log. */
  log: boolean;
}

/** LayerConfig is one rotation layer of a schedule. */
export interface LayerConfig {
  everyMs: number;
  people: string[];
  /** Local ms (wall clock as UTC) of a handoff at which people[0] takes over. */
  anchor: number;
  /** Only active on these weekdays (0 Sunday) and within these minutes of the day [from, to) (wrapping midnight); undefined: always. */
  days?: number[];
  hours?: { from: number; to: number };
}

/** OverrideConfig: person is on call from..to (epoch ms), over every layer. */
export interface OverrideConfig {
  person: string;
  from: number;
  to: number;
}

/** ScheduleConfig is one `schedules:` entry. Later layers override earlier ones where active. */
export interface ScheduleConfig {
  name: string;
  tz: string;
  layers: LayerConfig[];
  overrides: OverrideConfig[];
}

/** Target is who a level notifies: a contact, or whoever a schedule has on call then. */
export type Target = { contact: string } | { schedule: string };

/** LevelConfig is one escalation level: notified `afterMs` after escalation (re)started, unless acknowledged. */
export interface LevelConfig {
  notify: Target[];
  afterMs: number;
}

/** EscalationConfig is one `escalations:` entry. */
export interface EscalationConfig {
  name: string;
  levels: LevelConfig[];
  /** Times the whole policy runs again after the last level. */
  repeat: number;
  /** Time from the last level to the start of a repeat. */
  repeatAfterMs: number;
  /** An acknowledgement this old without a resolution resumes escalation (undefined: never). */
  ackTimeoutMs?: number;
  /** Alerts of this escalation firing within this window go out as one notification. */
  groupWaitMs: number;
  /** Send resolved and acknowledged notifications to those who were told of the alert. */
  sendResolved: boolean;
}

/** Matchers: label name → accepted values (any of them). */
export type Matchers = Record<string, string[]>;

/** SilenceConfig is one `silences:` entry (or one made over the API). */
export interface SilenceConfig {
  match: Matchers;
  /** Epoch ms; active from `from` (default: always) until `until`. */
  from?: number;
  until: number;
  comment: string;
}

/** SmtpConfig: the mail server e-mail contacts are sent through. */
export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
}

/** NotifyConfig is `notify:`: how notifications are sent. */
export interface NotifyConfig {
  /** The node's address as people reach it, for ack links (default from node.listen). */
  url?: string;
  smtp?: SmtpConfig;
  /** How long an ack link in a notification works. */
  ackLinkTtlMs: number;
  /** Attempts per delivery before it counts as failed (retries with backoff in between). */
  attempts: number;
  /** First retry delay; doubled each attempt up to retryMaxMs. */
  retryMs: number;
  retryMaxMs: number;
  /** The escalation of alerts whose SLA (or heartbeat) names none; undefined: `default` if defined. */
  defaultEscalation?: string;
}

declare module '../config/types' {
  interface Config {
    contacts: Record<string, ContactConfig>;
    schedules: Record<string, ScheduleConfig>;
    escalations: Record<string, EscalationConfig>;
    silences: SilenceConfig[];
    notify: NotifyConfig;
  }
}
