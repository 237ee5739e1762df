import { actorName } from '../alerts/alert';
import { DEFAULT_RULES } from '../rules/rule-pack';
import type { Alert } from '../types';
import type { Encode } from './untrusted';

const ACTIONS: ReadonlyMap<string, string> = new Map(DEFAULT_RULES.map((rule) => [rule.id, rule.action]));

const ACME_KINDS: ReadonlyArray<[RegExp, string]> = [
  [/\/acme-external-account-binding\/[^/]+$/, 'ACME external account binding'],
  [/\/acme-domain-validation\/[^/]+$/, 'ACME domain validation'],
  [/^arn:[^:]*:acm:[^:]*:[^:]*:acme-endpoint\/[^/]+$/, 'ACME endpoint'],
];

/** A short label for a certificate, CA or ACME ARN: `certificate 1234…`, `ACME endpoint …` or the CA id, the id encoded for the channel. */
export function resourceLabel(arn: string, encode: Encode): string {
  const id = arn.split('/').pop() || arn;
  if (/^arn:[^:]*:acm:[^:]*:[^:]*:certificate\//.test(arn)) return `certificate ${encode(id)}`;
  if (/^arn:[^:]*:acm-pca:[^:]*:[^:]*:certificate-authority\/[^/]+\/certificate\//.test(arn)) return `certificate ${encode(id)}`;
  if (/^arn:[^:]*:acm:[^:]*:[^:]*:acme-endpoint\//.test(arn)) {
    const kind = ACME_KINDS.find(([pattern]) => pattern.test(arn));
    if (kind) return `${kind[1]} ${encode(id)}`;
  }
  return encode(id);
}

/** "alice (IAMUser)": who acted, as a person would name them, each part encoded for the channel. */
export function actorLabel(alert: Alert, encode: Encode): string {
  return `${encode(actorName(alert.actor))} (${encode(alert.actor.type)})`;
}

/**
 * The one sentence an alert leads with, e.g. "alice (IAMUser) exported the private key of
 * certificate 1234 in 123456789012 / us-east-1 — succeeded". A failed call says what was tried.
 */
export function summarySentence(alert: Alert, encode: Encode): string {
  const target = alert.resources[0] ? ` ${resourceLabel(alert.resources[0], encode)}` : '';
  const resourceCount = alert.storm?.resourceCount ?? alert.resources.length;
  const more = resourceCount > 1 ? ` (+${resourceCount - 1} more)` : '';
  const where = `in ${encode(alert.accountId)} / ${encode(alert.awsRegion)}`;
  const times = alert.storm ? `, ${alert.storm.count} times` : '';
  if (alert.outcome === 'failed') {
    return `${actorLabel(alert, encode)} tried ${encode(alert.eventName)}${target ? ` on${target}` : ''}${more} ${where} — failed (${encode(alert.errorCode ?? 'error')})${times}`;
  }
  const action = ACTIONS.get(alert.ruleId) ?? `called ${encode(alert.eventName)} on`;
  return `${actorLabel(alert, encode)} ${action}${target}${more} ${where} — succeeded${times}`;
}

/** "12 calls from 09:00:05Z to 09:14:40Z" for a summary alert; undefined for a single one. */
export function stormLine(alert: Alert, encode: Encode): string | undefined {
  const storm = alert.storm;
  if (!storm) return undefined;
  const part = storm.part ? ` (part ${storm.part.index} of ${storm.part.of})` : '';
  return `${storm.count} calls from ${encode(storm.firstEventTime)} to ${encode(storm.lastEventTime)}, ${storm.resourceCount} resource${storm.resourceCount === 1 ? '' : 's'}${part}`;
}

/** Keeps printable ASCII only and collapses white space: safe for a mail subject or a header. */
export function printableAscii(text: string): string {
  return text.replace(/[\u2014\u2013]/g, '-').replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Cuts `text` to at most `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 3))}...`;
}

/** "1 alert", "3 alerts". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** One short line on how the event arrived, the same on every channel. */
export function viaLine(alert: Alert): string {
  return alert.via === 'eventbridge' ? 'real-time EventBridge event (its log file, minutes later, sends nothing more)' : 'CloudTrail log file';
}
