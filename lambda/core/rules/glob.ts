/**
 * Compiles an ARN glob to a matcher: `*` matches any run of characters (slashes included, as in
 * IAM policies), `?` exactly one; everything else is literal and the whole ARN must match.
 */
export function compileGlob(pattern: string): (value: string) => boolean {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => regex.test(value);
}
