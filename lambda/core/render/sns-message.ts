/**
 * Room `render/`: an alert in, text for one channel out. One file per channel (email.ts,
 * chat.ts, slack-blocks.ts), the phrases they share in summary.ts, and this file, which puts
 * them together into the SNS message every subscriber receives.
 */
import type { Alert } from '../types';
import { renderChatNotification } from './chat';
import { renderEmail } from './email';
import { clip, printableAscii } from './summary';

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
  const subject = printableAscii(`[acm-sentinel] ${alert.severity.toUpperCase()}: ${alert.title}${outcome} by ${who} in ${alert.accountId}`);
  return clip(subject || '[acm-sentinel] alert', SUBJECT_MAX);
}

/** Attributes subscribers filter on with subscription filter policies. */
export function alertAttributes(alert: Alert): Record<string, SnsMessageAttribute> {
  const attribute = (value: string): SnsMessageAttribute => ({ DataType: 'String', StringValue: clip(value, 256) || 'unknown' });
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
  const machine = JSON.stringify(alert);
  return JSON.stringify({ default: chat, https: chat, email: renderEmail(alert), sqs: machine, lambda: machine });
}

/**
 * Successively smaller versions of an alert, for when one does not fit in an SNS message:
 * first without request details, then with its long lists and texts cut.
 */
function shrink(alert: Alert): Alert[] {
  const withoutDetails: Alert = { ...alert, details: { truncated: 'request parameters exceeded the SNS size limit; see the CloudTrail event' } };
  const minimal: Alert = {
    ...withoutDetails,
    resources: alert.resources.slice(0, 10),
    ...(alert.errorMessage ? { errorMessage: clip(alert.errorMessage, 256) } : {}),
    ...(alert.userAgent ? { userAgent: clip(alert.userAgent, 256) } : {}),
  };
  return [withoutDetails, minimal];
}

/**
 * The SNS message for an alert, within SNS's size limit: an oversized alert is published with its
 * details truncated, never dropped.
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
