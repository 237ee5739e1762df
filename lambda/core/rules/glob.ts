/** Values longer than this never match: an ARN is at most 2,048 characters, and a glob with
 * several `*` would otherwise take time quadratic in a forged value's length. */
export const MAX_GLOB_VALUE = 4096;

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
  return (value) => value.length <= MAX_GLOB_VALUE && regex.test(value);
}
