export const id = 911;
export const ids = [911];
export const modules = {

/***/ 3911:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  LogFollower: () => (/* binding */ LogFollower)
});

// EXTERNAL MODULE: external "node:timers/promises"
var promises_ = __webpack_require__(8500);
// EXTERNAL MODULE: ./node_modules/@google-cloud/logging-api/build/src/v2/logging_service_v2_client.js
var logging_service_v2_client = __webpack_require__(3431);
// EXTERNAL MODULE: ./node_modules/google-gax/build/src/index.js
var src = __webpack_require__(3232);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/outcome.ts
var outcome = __webpack_require__(4671);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
;// CONCATENATED MODULE: ./src/sanitize.ts

/** Longer lines are cut: the runner's log is for reading, and one line must not hold megabytes. */
const MAX_LINE_CHARS = 8192;
// CSI/OSC and other escape sequences, then any remaining C0/C1 control character but tab.
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])/g;
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
/**
 * cleanLine makes one line of the job's output safe to print: escape sequences are dropped
 * (they could rewrite what the log shows), other control characters become visible, and an
 * over-long line is cut with a marker saying how much was left out.
 */
function cleanLine(text) {
    const clean = text
        .replace(ESCAPES, '')
        .replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    if (clean.length <= MAX_LINE_CHARS)
        return clean;
    return `${clean.slice(0, MAX_LINE_CHARS)} … [${clean.length - MAX_LINE_CHARS} more characters cut]`;
}
/**
 * fenced wraps lines in ::stop-commands::TOKEN ... ::TOKEN::, so that the runner prints
 * workflow commands among them (::set-output, ::add-mask::, ::error::...) as plain text.
 * The token is random for every batch, so the job cannot guess it and resume commands.
 */
function fenced(lines) {
    const token = randomBytes(16).toString('hex');
    return [`::stop-commands::${token}`, ...lines, `::${token}::`].join('\n');
}

// EXTERNAL MODULE: ./src/time.ts
var time = __webpack_require__(9834);
;// CONCATENATED MODULE: ./src/logs.ts







const BACKFILL_PAGES = 5;
/** However much the job printed, the action stops following its logs this long after it ended. */
const MAX_DRAIN_MS = 5 * 60_000;
const SYSTEM_LOG = 'run.googleapis.com%2Fvarlog%2Fsystem';
const TASK_LABEL = 'run.googleapis.com/task_index';
const ATTEMPT_LABEL = 'run.googleapis.com/task_attempt';
/** The platform's own last line for a task attempt, written to varlog/system when its container ends. */
const LAST_LINE = /^Container (?:called exit\(\d+\)|terminated on signal \d+)\.$/;
/**
 * Follows one execution's log entries into the workflow log while it runs: in order, each
 * once, from the Tail stream when it can, else from ListLogEntries pages. Logs are best
 * effort: a failure to read them is one warning and never changes the verdict.
 */
class LogFollower {
    #client;
    #settings;
    #io;
    #seen = new RecentIds(20_000);
    #last = [];
    /** Per task index, whether the last line printed for it was its container's end. */
    #exited = new Map();
    #newest = '';
    #lastArrival = 0;
    #stopped = false;
    #failed = false;
    #running;
    #stream;
    #wake;
    #multiTask = false;
    constructor(options, settings, io) {
        this.#client = new logging_service_v2_client/* LoggingServiceV2Client */.O(options);
        this.#settings = settings;
        this.#io = io;
    }
    start(taskCount) {
        this.#multiTask = taskCount > 1;
        this.#running = this.#follow().catch((err) => this.#giveUp(err));
    }
    /** The last lines printed, for the failure tail. */
    lastLines() {
        return [...this.#last];
    }
    /**
     * finish stops following once the logs have caught up with the execution's end: every
     * task's last line is the platform's note that its container ended. Lines that come late
     * are waited for up to the grace period after the execution's completion.
     */
    async finish(execution) {
        const tasks = (0,outcome/* hasStarted */.gd)(execution) ? (execution.taskCount ?? 1) : 0;
        const caughtUp = () => this.#failed || Array.from({ length: tasks }, (_, i) => this.#exited.get(i)).every(Boolean);
        const completed = (0,time/* millis */.n)(execution.completionTime) || Date.now();
        // The grace period runs from the execution's end, and again from the last line that
        // arrived while lines keep coming, up to a hard limit for a job that printed a lot.
        const deadline = () => Math.min(Math.max(completed, this.#lastArrival) + this.#settings.graceMs, completed + MAX_DRAIN_MS);
        // One page read now catches up at once, instead of waiting out the tail's buffer window;
        // the tail then delivers the rest, if there is more.
        if (!caughtUp())
            await this.#readPages({ maxPages: 1 }).catch((err) => this.#giveUp(err));
        while (!caughtUp() && Date.now() < deadline()) {
            // Reading pages: ask for the next one now rather than at the next poll.
            this.#wake?.();
            await (0,promises_.setTimeout)(Math.min(this.#stream ? 50 : 1000, Math.max(0, deadline() - Date.now())));
        }
        await this.close();
    }
    async close() {
        this.#stopped = true;
        this.#stream?.end();
        this.#stream?.cancel?.();
        this.#wake?.();
        await this.#running;
        await this.#client.close().catch(() => undefined);
    }
    async #follow() {
        try {
            await this.#tail();
        }
        catch (err) {
            if (this.#stopped)
                return;
            if ((0,errors/* rpcCode */.t4)(err) === src.Status.PERMISSION_DENIED || (0,errors/* rpcCode */.t4)(err) === src.Status.UNAUTHENTICATED)
                throw err;
            this.#io.debug(`Log tail unavailable (${(0,errors/* errorMessage */.gJ)(err)}); reading pages instead.`);
        }
        this.#stream = undefined;
        while (!this.#stopped) {
            await this.#readPages();
            await new Promise((resolve) => {
                this.#wake = resolve;
                setTimeout(resolve, this.#settings.pollMs).unref();
            });
        }
    }
    /**
     * Streams entries from TailLogEntries until the stream ends. A tail gives only what is
     * written after it opens, so a backfill reads what came before; entries both return are
     * printed once, and the tail's are held until the backfill is printed, to keep the order.
     */
    async #tail() {
        const stream = this.#client.tailLogEntries();
        this.#stream = stream;
        const window = this.#settings.bufferWindowMs;
        stream.write({
            resourceNames: [`projects/${this.#settings.project}`],
            filter: this.#settings.filter,
            bufferWindow: { seconds: Math.floor(window / 1000), nanos: (window % 1000) * 1e6 },
        });
        const held = [];
        let backfilled = false;
        stream.on('data', (response) => {
            const entries = response.entries ?? [];
            if (backfilled)
                this.#print(entries);
            else
                held.push(...entries);
        });
        const ended = new Promise((resolve, reject) => {
            stream.on('error', (err) => (this.#stopped && (0,errors/* rpcCode */.t4)(err) === src.Status.CANCELLED ? resolve() : reject(err)));
            stream.on('end', resolve);
        });
        // The tail opens as the execution starts: what came before is at most a few pages.
        await Promise.race([this.#readPages({ maxPages: BACKFILL_PAGES }), ended]);
        backfilled = true;
        this.#print(held.sort(byTime));
        await ended;
    }
    /** Reads, page by page, the entries from the newest printed on, up to `maxPages` pages. */
    async #readPages({ maxPages = Infinity } = {}) {
        const bounds = this.#newest ? [`timestamp>="${this.#newest}"`] : [];
        let pageToken = '';
        for (let page = 0; page < maxPages; page++) {
            const [entries, , response] = await this.#client.listLogEntries({
                resourceNames: [`projects/${this.#settings.project}`],
                filter: [this.#settings.filter, ...bounds].join('\n'),
                orderBy: 'timestamp asc',
                pageSize: 1000,
                pageToken,
            }, { autoPaginate: false });
            this.#print(entries);
            pageToken = response?.nextPageToken ?? '';
            if (!pageToken || this.#stopped)
                return;
        }
    }
    #print(entries) {
        const lines = [];
        for (const entry of entries) {
            if (!entry.insertId || this.#seen.has(entry.insertId))
                continue;
            this.#seen.add(entry.insertId);
            const time = timestamp(entry);
            if (time > this.#newest)
                this.#newest = time;
            const task = Number(entry.labels?.[TASK_LABEL] ?? 0);
            const text = entry.textPayload ?? (entry.jsonPayload ? JSON.stringify(entry.jsonPayload) : '');
            this.#exited.set(task, Boolean(entry.logName?.endsWith(SYSTEM_LOG)) && LAST_LINE.test(text));
            const prefix = this.#multiTask ? `[task ${task}${attemptSuffix(entry)}] ` : '';
            for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/))
                lines.push(prefix + cleanLine(line));
        }
        if (lines.length === 0)
            return;
        this.#lastArrival = Date.now();
        this.#io.untrusted(lines);
        this.#last.push(...lines);
        this.#last.splice(0, Math.max(0, this.#last.length - this.#settings.tailLines));
    }
    #giveUp(err) {
        if (this.#failed)
            return;
        this.#failed = true;
        const denied = (0,errors/* rpcCode */.t4)(err) === src.Status.PERMISSION_DENIED;
        const advice = denied
            ? "The workflow's identity cannot read logs: grant it roles/logging.viewer (logging.logEntries.list) to see them here."
            : 'Cloud Logging could not be read.';
        this.#io.warning(`${advice} The verdict still comes from the execution. Logs: ${this.#settings.logsUrl} (${(0,errors/* errorMessage */.gJ)(err)})`);
    }
}
const attemptSuffix = (entry) => {
    const attempt = Number(entry.labels?.[ATTEMPT_LABEL] ?? 0);
    return attempt > 0 ? `, attempt ${attempt + 1}` : '';
};
function timestamp(entry) {
    const t = entry.timestamp;
    if (!t)
        return '';
    const ms = Math.floor((0,time/* millis */.n)(t));
    const nanos = String(t.nanos ?? 0).padStart(9, '0');
    return `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
}
const byTime = (a, b) => (timestamp(a) < timestamp(b) ? -1 : timestamp(a) > timestamp(b) ? 1 : 0);
/** A set that remembers only the most recent ids, so memory stays bounded however long the job prints. */
class RecentIds {
    #ids = new Set();
    #limit;
    constructor(limit) {
        this.#limit = limit;
    }
    has(id) {
        return this.#ids.has(id);
    }
    add(id) {
        this.#ids.add(id);
        if (this.#ids.size > this.#limit)
            this.#ids.delete(this.#ids.values().next().value);
    }
}


/***/ })

};
