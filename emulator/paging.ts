// List pagination with opaque cursor tokens. A token holds the sort key of the
// last item returned, so items created between pages neither repeat nor go
// missing, and the request parameters it was issued for ("All other parameters
// must match", as the List request comments say).
import {invalidArgument} from './errors.ts';

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

type SortKey = number[];

function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function decodeToken(token: string, scope: string): SortKey {
  let parsed: {scope?: unknown; after?: unknown};
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument(`Invalid page_token '${token}'.`);
  }
  if (parsed.scope !== scope || !Array.isArray(parsed.after)) {
    throw invalidArgument('The page_token does not match the other request parameters.');
  }
  return parsed.after as SortKey;
}

/**
 * One page of `items` in ascending order of `key`. `scope` identifies the
 * other request parameters; `pageSize` <= 0 means `defaultSize`.
 */
export function paginate<T>(
  items: T[],
  key: (item: T) => SortKey,
  request: {pageSize?: number; pageToken?: string},
  scope: string,
  defaultSize: number,
): Page<T> {
  if ((request.pageSize ?? 0) < 0) throw invalidArgument('page_size must not be negative.');
  const size = request.pageSize || defaultSize;
  const after = request.pageToken ? decodeToken(request.pageToken, scope) : undefined;
  const sorted = items
    .map(item => ({item, key: key(item)}))
    .sort((a, b) => compareKeys(a.key, b.key))
    .filter(entry => !after || compareKeys(entry.key, after) > 0);
  const page = sorted.slice(0, size);
  const last = page.at(-1);
  const nextPageToken =
    sorted.length > size && last ? Buffer.from(JSON.stringify({scope, after: last.key})).toString('base64url') : '';
  return {items: page.map(entry => entry.item), nextPageToken};
}
