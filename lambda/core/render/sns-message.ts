/**
 * Room `render/`: an alert in, text for one channel out. One file per channel (email.ts,
 * chat.ts, slack-blocks.ts), the phrases they share in summary.ts, and this file, which puts
 * them together into the SNS message every subscriber receives.
 */
import { cut } from '../alerts/fields';
import type { Alert } from '../types';
import { renderChatNotification } from './chat';
import { renderEmail } from './email';
import { clip, printableAscii } from './summary';
import { defang, inertJson, visible } from './untrusted';

/** SNS's limit on one message including attributes, in bytes. */
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;
// Room for the subject and the message attributes, which count toward the limit.
const MESSAGE_BUDGET = SNS_MAX_MESSAGE_BYTES - 4 * 1024;
const SUBJECT_MAX = 99;

export interface SnsMessageAttribute {
  DataType: 'String';
  StringValue: string;
}

/** One SNS publish entry for one alert: structure `json`, one body per protocol. */
export interface SnsAlertMessage {
  Subject: string;
  Message: string;
  MessageStructure: 'json';
  MessageAttributes: Record<string, SnsMessageAttribute>;
}

/** Mail subject: printable ASCII, one line, at most 99 characters. */
export function alertSubject(alert: Alert): string {
  const who = alert.actor.userName ?? alert.actor.arn?.split('/').pop() ?? alert.actor.type;
  const outcome = alert.outcome === 'failed' ? ' - attempt failed' : '';
  const subject = printableAscii(defang(`[acm-sentinel] ${alert.severity.toUpperCase()}: ${alert.title}${outcome} by ${who} in ${alert.accountId}`));
  return clip(subject || '[acm-sentinel] alert', SUBJECT_MAX);
}

/** Attributes subscribers filter on with subscription filter policies. */
export function alertAttributes(alert: Alert): Record<string, SnsMessageAttribute> {
  const attribute = (value: string): SnsMessageAttribute => ({ DataType: 'String', StringValue: cut(visible(value), 256) || 'unknown' });
  return {
    severity: attribute(alert.severity),
    ruleId: attribute(alert.ruleId),
    eventName: attribute(alert.eventName),
    accountId: attribute(alert.accountId),
    awsRegion: attribute(alert.awsRegion),
    outcome: attribute(alert.outcome),
  };
}

function renderBodies(alert: Alert): string {
  const chat = JSON.stringify(renderChatNotification(alert));
  const machine = inertJson(alert);
  return JSON.stringify({ default: chat, https: chat, email: renderEmail(alert), sqs: machine, lambda: machine });
}

const SHORT = 256;
const clipped = (text: string | undefined, max: number): string | undefined => (text === undefined ? undefined : cut(text, max));

/** Every free-text field of the alert cut to `max` characters, details dropped (the event IDs of a burst stay whole). */
function cutFields(alert: Alert, max: number, resources: number): Alert {
  const { actor } = alert;
  const smaller: Alert = {
    ...alert,
    eventSource: cut(alert.eventSource, max),
    eventName: cut(alert.eventName, max),
    eventId: cut(alert.eventId, max),
    eventTime: cut(alert.eventTime, max),
    awsRegion: cut(alert.awsRegion, max),
    accountId: cut(alert.accountId, max),
    actor: Object.fromEntries(Object.entries(actor).map(([key, value]) => [key, typeof value === 'string' ? cut(value, max) : value])) as Alert['actor'],
    resources: alert.resources.slice(0, resources).map((arn) => cut(arn, max)),
    details: { truncated: 'request parameters exceeded the SNS size limit; see the CloudTrail event' },
    ...(alert.storm ? { storm: { ...alert.storm, firstEventTime: cut(alert.storm.firstEventTime, max), lastEventTime: cut(alert.storm.lastEventTime, max) } } : {}),
  };
  for (const key of ['sourceIPAddress', 'userAgent', 'errorCode', 'errorMessage', 'logFile'] as const) {
    if (alert[key] !== undefined) smaller[key] = clipped(alert[key], max);
  }
  return smaller;
}

/**
 * Successively smaller versions of an alert, for when one does not fit in an SNS message:
 * without request details, then with every text and list cut, then cut hard. Each field already
 * has a budget (alerts/fields.ts), so the last step fits whatever the alert holds (a test proves
 * it for any field sizes and characters).
 */
function shrink(alert: Alert): Alert[] {
  const withoutDetails: Alert = { ...alert, details: { truncated: 'request parameters exceeded the SNS size limit; see the CloudTrail event' } };
  return [withoutDetails, cutFields(alert, SHORT, 10), cutFields(alert, 64, 3)];
}

/**
 * The SNS message for an alert, within SNS's size limit: an oversized alert is published with its
 * details truncated and its texts cut, never dropped.
 */
export function buildSnsMessage(alert: Alert): SnsAlertMessage {
  let message = renderBodies(alert);
  for (const smaller of shrink(alert)) {
    if (Buffer.byteLength(message) <= MESSAGE_BUDGET) break;
    message = renderBodies(smaller);
  }
  return { Subject: alertSubject(alert), Message: message, MessageStructure: 'json', MessageAttributes: alertAttributes(alert) };
}

/** Bytes an entry counts toward SNS's limits (message, subject and attributes). */
export function snsMessageSize(message: SnsAlertMessage): number {
  let size = Buffer.byteLength(message.Message) + Buffer.byteLength(message.Subject);
  for (const [name, value] of Object.entries(message.MessageAttributes)) {
    size += Buffer.byteLength(name) + value.DataType.length + Buffer.byteLength(value.StringValue);
  }
  return size;
}
