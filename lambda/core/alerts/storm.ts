import { DEFAULT_STORM_THRESHOLD } from '../rules/rule-config';
import type { Alert } from '../types';
import { dedupeKey } from './alert';

/** Event IDs one summary can carry and still fit in an SNS message with room to spare. */
export const MAX_EVENT_IDS_PER_SUMMARY = 1000;
const MAX_RESOURCES_LISTED = 10;

// The event name is part of the group (a rule can cover several calls), so a summary's event IDs
// and its one event name give back exactly the dedupe keys of the alerts it stands for.
const groupKey = (alert: Alert): string =>
  [alert.ruleId, alert.eventName, alert.actor.arn ?? alert.actor.principalId ?? alert.actor.type, alert.outcome].join('\u0000');

function summarize(alerts: readonly Alert[], part?: { index: number; of: number }): Alert {
  const sorted = [...alerts].sort((a, b) => a.eventTime.localeCompare(b.eventTime));
  const first = sorted[0]!;
  const resources = [...new Set(sorted.flatMap((alert) => alert.resources))];
  return {
    ...first,
    title: `${first.title} (${alerts.length} times)`,
    resources: resources.slice(0, MAX_RESOURCES_LISTED),
    details: {},
    storm: {
      count: alerts.length,
      firstEventTime: first.eventTime,
      lastEventTime: sorted[sorted.length - 1]!.eventTime,
      eventIds: sorted.map((alert) => alert.eventId),
      resourceCount: resources.length,
      ...(part ? { part } : {}),
    },
  };
}

/**
 * Storm control: when one log file yields more than `threshold` alerts of the same rule and call
 * by the same actor with the same outcome, they become one summary alert (counts, first and last event
 * time, up to 10 resources, every event ID) in place of the first of them. Other alerts keep
 * their order. A threshold of 0 turns folding off.
 */
export function foldStorms(alerts: readonly Alert[], threshold: number = DEFAULT_STORM_THRESHOLD): Alert[] {
  if (threshold <= 0) return [...alerts];
  const groups = new Map<string, Alert[]>();
  for (const alert of alerts) {
    const key = groupKey(alert);
    const group = groups.get(key);
    if (group) group.push(alert);
    else groups.set(key, [alert]);
  }
  const result: Alert[] = [];
  for (const alert of alerts) {
    const group = groups.get(groupKey(alert))!;
    if (group.length <= threshold) result.push(alert);
    else if (group[0] === alert) {
      const parts = Math.ceil(group.length / MAX_EVENT_IDS_PER_SUMMARY);
      for (let i = 0; i < parts; i += 1) {
        const slice = group.slice(i * MAX_EVENT_IDS_PER_SUMMARY, (i + 1) * MAX_EVENT_IDS_PER_SUMMARY);
        result.push(summarize(slice, parts > 1 ? { index: i + 1, of: parts } : undefined));
      }
    }
  }
  return result;
}

/** Every deduplication key an alert stands for: one, or one per event of a summary. */
export function dedupeKeys(alert: Alert): string[] {
  return alert.storm ? alert.storm.eventIds.map((eventId) => dedupeKey({ eventId, eventName: alert.eventName })) : [dedupeKey(alert)];
}
