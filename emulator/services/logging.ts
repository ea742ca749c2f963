// google.logging.v2.LoggingServiceV2: ListLogEntries and TailLogEntries over
// the entries task processes wrote.
import {status} from '@grpc/grpc-js';
import {durationMs} from '../clock.ts';
import {invalidArgument} from '../errors.ts';
import {parseFilter} from '../filter.ts';
import type {StoredEntry} from '../logging.ts';
import {paginate} from '../paging.ts';
import type {Message} from '../protos.ts';
import type {Service} from '../rpc.ts';
import type {Runtime} from '../runtime.ts';
import {TailSession} from '../tail.ts';

// ListLogEntriesRequest.page_size: "Default is 50. If the value is negative or exceeds 1000, the request is rejected."
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const MAX_BUFFER_WINDOW_MS = 60_000;
const PARENT = /^(projects|organizations|folders|billingAccounts)\/([^/]+)(\/locations\/[^/]+\/buckets\/[^/]+\/views\/[^/]+)?$/;

/** The projects whose entries `resourceNames` selects; other parents are valid but hold no entries here. */
function projectsOf(resourceNames: unknown): Set<string> {
  const names = Array.isArray(resourceNames) ? (resourceNames as string[]) : [];
  if (!names.length) throw invalidArgument('resource_names: at least one resource name, such as projects/PROJECT_ID, is required');
  if (names.length > 100) throw invalidArgument('resource_names: at most 100 resource names are allowed');
  const projects = new Set<string>();
  for (const name of names) {
    const match = PARENT.exec(name);
    if (!match) throw invalidArgument(`resource_names: '${name}' is not a valid parent resource name`);
    if (match[1] === 'projects') projects.add(match[2]!);
  }
  return projects;
}

function selector(request: Message): (entry: StoredEntry) => boolean {
  const projects = projectsOf(request.resourceNames);
  const matches = parseFilter(request.filter);
  return entry => projects.has(entry.project) && matches(entry.entry);
}

/** The project whose quota a call uses: that of its first resource name. */
const quotaProject = (request: Message) => String(request.resourceNames?.[0] ?? '').split('/')[1] ?? '';

function listLogEntries(rt: Runtime, request: Message): Message {
  const select = selector(request);
  const orderBy = (request.orderBy ?? '').trim().replace(/\s+/g, ' ');
  if (!['', 'timestamp asc', 'timestamp desc'].includes(orderBy)) {
    throw invalidArgument(`order_by: '${request.orderBy}' is not supported; use "timestamp asc" or "timestamp desc"`);
  }
  const pageSize = request.pageSize ?? 0;
  if (pageSize < 0 || pageSize > MAX_PAGE_SIZE) throw invalidArgument(`page_size: must be between 0 and ${MAX_PAGE_SIZE}`);
  rt.logs.quotas.read(quotaProject(request));
  const sign = orderBy === 'timestamp desc' ? -1 : 1;
  // Equal timestamps keep write (insert_id) order.
  const key = (entry: StoredEntry) => [
    sign * Number(entry.nanos / 1_000_000_000n),
    sign * Number(entry.nanos % 1_000_000_000n),
    sign * entry.seq,
  ];
  const scope = JSON.stringify(['entries', request.resourceNames, request.filter ?? '', orderBy]);
  const page = paginate(rt.logs.entries().filter(select), key, request, scope, DEFAULT_PAGE_SIZE);
  return {entries: page.items.map(entry => structuredClone(entry.entry)), nextPageToken: page.nextPageToken};
}

export function loggingService(rt: Runtime): Service {
  return {
    name: 'google.logging.v2.LoggingServiceV2',
    methods: {
      ListLogEntries: {
        authorize: r => [{permission: 'logging.logEntries.list', resource: r.resourceNames?.[0] ?? ''}],
        handle: r => listLogEntries(rt, r),
      },
      TailLogEntries: {
        streaming: true,
        authorize: r => [{permission: 'logging.logEntries.list', resource: r.resourceNames?.[0] ?? ''}],
        serve: (first, call, context) => {
          const select = selector(first);
          // buffer_window: "Valid values are between 0-60000 milliseconds. Defaults to 2000 milliseconds."
          const windowMs = first.bufferWindow ? durationMs(first.bufferWindow) : rt.options.logBufferMs;
          if (windowMs < 0 || windowMs > MAX_BUFFER_WINDOW_MS) {
            throw invalidArgument(`buffer_window: must be between 0 and ${MAX_BUFFER_WINDOW_MS} milliseconds`);
          }
          const release = rt.logs.quotas.openTail(quotaProject(first));
          const session = new TailSession(rt.logs, select, windowMs, rt.logs.quotas.tailEntriesPerMinute, response => call.write(response));
          return new Promise(resolve => {
            // The client ends the session by closing its side of the stream.
            const end = () => {
              session.close(true);
              release();
              call.end();
              resolve(status.OK);
            };
            if (call.readableEnded) end();
            else call.once('end', end);
            context.signal.addEventListener('abort', () => {
              session.close(false);
              release();
              resolve(status.CANCELLED);
            });
          });
        },
      },
    },
  };
}
