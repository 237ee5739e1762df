/**
 * What every channel must hold to, as readable problems (none expected): Slack's Block Kit
 * limits, and the hostile-input rules — no live markup, links, lines or control characters that
 * a record value added, no secret material.
 */
import { SLACK_LIMITS, type SlackMessage } from '../lambda/core/render/slack-blocks';

/** Every way a message can break Slack's Block Kit rules, as readable problems (none expected). */
export function slackProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const textObject = (where: string, object: unknown, max: number, type?: 'plain_text' | 'mrkdwn') => {
    const { type: actual, text } = (object ?? {}) as { type?: string; text?: unknown };
    check(actual === 'plain_text' || actual === 'mrkdwn', `${where}: text object type ${actual}`);
    if (type) check(actual === type, `${where}: must be ${type}`);
    check(typeof text === 'string' && text.length >= 1 && text.length <= max, `${where}: text length ${typeof text === 'string' ? text.length : typeof text} not in 1..${max}`);
  };
  const json = JSON.parse(JSON.stringify(message)) as SlackMessage;
  check(typeof json.text === 'string' && json.text.length >= 1 && json.text.length <= SLACK_LIMITS.fallbackText, 'fallback text');
  check(Array.isArray(json.blocks) && json.blocks.length >= 1 && json.blocks.length <= SLACK_LIMITS.blocks, `block count ${json.blocks?.length}`);
  json.blocks.forEach((block, i) => {
    const where = `block ${i} (${block.type})`;
    const b = block as Record<string, unknown>;
    switch (block.type) {
      case 'header':
        textObject(where, b.text, SLACK_LIMITS.headerText, 'plain_text');
        break;
      case 'section': {
        check(b.text !== undefined || b.fields !== undefined, `${where}: needs text or fields`);
        if (b.text !== undefined) textObject(where, b.text, SLACK_LIMITS.sectionText);
        if (b.fields !== undefined) {
          const fields = b.fields as unknown[];
          check(fields.length >= 1 && fields.length <= SLACK_LIMITS.fields, `${where}: ${fields.length} fields`);
          fields.forEach((field, j) => textObject(`${where} field ${j}`, field, SLACK_LIMITS.fieldText));
        }
        break;
      }
      case 'context': {
        const elements = b.elements as unknown[];
        check(elements.length >= 1 && elements.length <= SLACK_LIMITS.contextElements, `${where}: ${elements.length} elements`);
        elements.forEach((element, j) => textObject(`${where} element ${j}`, element, SLACK_LIMITS.contextText));
        break;
      }
      case 'actions': {
        const elements = b.elements as Array<Record<string, unknown>>;
        check(elements.length >= 1 && elements.length <= SLACK_LIMITS.actionsElements, `${where}: ${elements.length} elements`);
        const ids = new Set<string>();
        elements.forEach((button, j) => {
          check(button.type === 'button', `${where} element ${j}: not a button`);
          textObject(`${where} button ${j}`, button.text, SLACK_LIMITS.buttonText, 'plain_text');
          const url = button.url as string;
          check(typeof url === 'string' && url.length <= SLACK_LIMITS.buttonUrl && url.startsWith('https://'), `${where} button ${j}: url`);
          const id = button.action_id as string;
          check(typeof id === 'string' && id.length >= 1 && id.length <= SLACK_LIMITS.actionId && !ids.has(id), `${where} button ${j}: action_id`);
          ids.add(id);
        });
        break;
      }
      default:
        problems.push(`${where}: unexpected block type`);
    }
  });
  return problems;
}

/** Every mrkdwn string of a message, where Slack parses `&`, `<` and `>`. */
export function mrkdwnTexts(message: SlackMessage): string[] {
  const texts = [message.text];
  for (const block of message.blocks) {
    if (block.type === 'section' && 'text' in block) texts.push(block.text.text);
    if (block.type === 'section' && 'fields' in block) texts.push(...block.fields.map((field) => field.text));
    if (block.type === 'context') texts.push(...block.elements.map((element) => element.text));
  }
  return texts;
}


// ---------------------------------------------------------------------------------------------
// Hostile input: what a record value must never add to a channel
// ---------------------------------------------------------------------------------------------

/** Controls (other than the line breaks a renderer writes), bidi controls and invisible characters. */
const FORBIDDEN = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u2028\u2029\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF\uFFFE\uFFFF]/g;

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

export function forbiddenCharacters(where: string, text: string): string[] {
  const found = [...new Set(text.match(FORBIDDEN) ?? [])];
  return found.length ? [`${where}: carries ${found.map(codePoint).join(', ')}`] : [];
}

/** Links acm-sentinel builds itself: an AWS console page. */
const OWN_LINK = /^https:\/\/[a-z0-9-]+\.console\.aws\.amazon\.com\//;

/** Anything a mail client or chat would turn into a link, other than the console links acm-sentinel builds. */
export function liveLinks(where: string, text: string): string[] {
  // A defanged link (`hxxps://evil[.]example`) and an S3 URI are left as text by mail clients and chat.
  const urls = [...text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s|>`'"\\]*/gi)].map((m) => m[0]).filter((url) => !OWN_LINK.test(url) && !/^(hxxps?|s3):/i.test(url));
  const www = [...text.matchAll(/(?<![a-z0-9-])www\.[^\s`'"\\]*/gi)].map((m) => m[0]);
  return [...urls, ...www].map((link) => `${where}: live link ${JSON.stringify(link.slice(0, 80))}`);
}

// The markup acm-sentinel writes itself: label emphasis, emoji, console links, bullets.
const OWN_LABEL =
  /\*(Who|Session issuer|When|Burst|From|Error|Resource|Why it matters|Seen via|Account \/ region|From IP|User agent|Outcome|Resources|What to do next|Session issuer &amp; MFA|no):?\*/g;
const OWN_CONSOLE_LINK = /<https:\/\/[a-z0-9-]+\.console\.aws\.amazon\.com\/[^|>\s]*\|[A-Za-z ]+>/g;

/**
 * Slack mrkdwn that a record value could have made live: outside the code spans that hold record
 * values, no `<`, `>`, backtick, `*`, `~` or word-edge `_` other than acm-sentinel's own markup;
 * inside them, no raw `<` or `>`; and never a `<!…>` mention.
 */
export function liveMrkdwn(where: string, text: string): string[] {
  const problems: string[] = [];
  const spans = text.match(/`[^`\n]*`/g) ?? [];
  for (const span of spans) if (/[<>]/.test(span)) problems.push(`${where}: raw < or > inside ${JSON.stringify(span.slice(0, 80))}`);
  const rest = text.replace(/`[^`\n]*`/g, ' ').replace(OWN_CONSOLE_LINK, ' ').replace(OWN_LABEL, ' ').replace(/:[a-z_]+:/g, ' ');
  const live = rest.match(/[<>`*~]|(^|\s)_|_(\s|$)/g);
  if (live) problems.push(`${where}: live markup ${JSON.stringify([...new Set(live.map((m) => m.trim()))])} in ${JSON.stringify(rest.slice(0, 200))}`);
  if (text.includes('<!')) problems.push(`${where}: a mention`);
  return problems;
}

const EMAIL_FACTS = ['Severity', 'Alert', 'When', 'Burst', 'Who', 'Session', 'From', 'Call', 'Error', 'Resource', 'Account', 'Seen via', 'Event ID', 'Log file'];
const EMAIL_HEADINGS = [/^Request parameters \(secrets redacted\):$/, /^Why this matters:$/, /^What to do next:$/, /^Links:$/, /^Event IDs( \(first \d+ of \d+; the JSON message carries all\))?:$/];

/**
 * An email whose record values added no line: after the summary sentence, every line that does
 * not start indented is a fact label or a section heading of the renderer, and the facts that
 * say who and what (Who, Call, Severity) appear once each.
 */
export function emailProblems(where: string, email: string): string[] {
  const problems = [...forbiddenCharacters(where, email), ...liveLinks(where, email)];
  const lines = email.trimEnd().split('\n');
  const labels: string[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line === '' || line.startsWith(' ')) return;
    const label = line.slice(0, 12).trimEnd();
    if (EMAIL_FACTS.includes(label) && line.length > 12 && line[11] === ' ') labels.push(label);
    else if (!EMAIL_HEADINGS.some((heading) => heading.test(line))) problems.push(`${where}: line ${i + 2} reads as ${JSON.stringify(line.slice(0, 60))}`);
  });
  for (const label of ['Severity', 'Who', 'Call']) {
    const count = labels.filter((l) => l === label).length;
    if (count !== 1) problems.push(`${where}: ${count} "${label}" lines`);
  }
  return problems;
}

/** Text for a terminal: no control or escape character but line breaks, no live link. */
export function terminalProblems(where: string, text: string): string[] {
  return [...forbiddenCharacters(where, text), ...liveLinks(where, text)];
}

/**
 * Secret material that survived into `text`. Both are compared with everything but letters and
 * digits removed, so a secret is found whatever wrapping, escaping or separators it was shown
 * with; any 16-character window of a secret is a leak. Byte arrays are compared as numbers.
 */
export function leakedSecrets(where: string, text: string, secrets: ReadonlyArray<string | readonly number[]>): string[] {
  const flat = text.replace(/[^A-Za-z0-9]/g, '');
  const numbers = text.replace(/\s/g, '');
  const problems: string[] = [];
  secrets.forEach((secret, i) => {
    if (typeof secret !== 'string') {
      if (numbers.includes(secret.slice(0, 8).join(','))) problems.push(`${where}: byte array secret ${i}`);
      return;
    }
    const body = secret.replace(/-----[A-Z ]+-----/g, '').replace(/[^A-Za-z0-9]/g, '');
    for (let at = 0; at + 16 <= body.length; at += 8) {
      if (flat.includes(body.slice(at, at + 16))) {
        problems.push(`${where}: secret ${i} (at ${at})`);
        return;
      }
    }
  });
  return problems;
}
