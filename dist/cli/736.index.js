export const id = 736;
export const ids = [736];
export const modules = {

/***/ 9736:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   LogFollower: () => (/* binding */ LogFollower)
/* harmony export */ });
/* harmony import */ var node_timers_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8500);
/* harmony import */ var node_timers_promises__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_timers_promises__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _google_cloud_logging_api_build_src_v2_logging_service_v2_client_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3431);
/* harmony import */ var google_gax__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3232);
/* harmony import */ var google_gax__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(google_gax__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(3916);
/* harmony import */ var _gax_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(8585);
/* harmony import */ var _outcome_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(4671);
/* harmony import */ var _sanitize_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(5540);
/* harmony import */ var _time_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(9834);








const BACKFILL_PAGES = 5;
/** Tail entries held while the backfill runs; beyond this the tail waits (its stream is paused). */
const HOLD_LIMIT = 1000;
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
    #printed = new Printed();
    #last = [];
    /** Per task index, whether the last line printed for it was its container's end. */
    #exited = new Map();
    #lastArrival = 0;
    #stopped = false;
    #failed = false;
    #running;
    /** Page reads run one after the other, so that each starts where the last one ended. */
    #pageReads = Promise.resolve();
    #stream;
    #wake;
    #multiTask = false;
    constructor(options, settings, io) {
        this.#client = new _google_cloud_logging_api_build_src_v2_logging_service_v2_client_js__WEBPACK_IMPORTED_MODULE_1__/* .LoggingServiceV2Client */ .O(options, _gax_js__WEBPACK_IMPORTED_MODULE_4__/* .loggingGax */ .e7);
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
        const tasks = (0,_outcome_js__WEBPACK_IMPORTED_MODULE_6__/* .hasStarted */ .gd)(execution) ? (execution.taskCount ?? 1) : 0;
        const caughtUp = () => this.#failed || Array.from({ length: tasks }, (_, i) => this.#exited.get(i)).every(Boolean);
        const completed = (0,_time_js__WEBPACK_IMPORTED_MODULE_7__/* .millis */ .n)(execution.completionTime) || Date.now();
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
            await (0,node_timers_promises__WEBPACK_IMPORTED_MODULE_0__.setTimeout)(Math.min(this.#stream ? 50 : 1000, Math.max(0, deadline() - Date.now())));
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
            if ((0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .rpcCode */ .t4)(err) === google_gax__WEBPACK_IMPORTED_MODULE_2__.Status.PERMISSION_DENIED || (0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .rpcCode */ .t4)(err) === google_gax__WEBPACK_IMPORTED_MODULE_2__.Status.UNAUTHENTICATED)
                throw err;
            this.#io.debug(`Log tail unavailable (${(0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .errorMessage */ .gJ)(err)}); reading pages instead.`);
        }
        this.#stream = undefined;
        this.#printed.tailClosed();
        while (!this.#stopped) {
            await this.#readPages();
            if (this.#stopped)
                break;
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
        // The stream waits, rather than fill memory, while a chatty job's tail runs far ahead of the
        // backfill, and while the workflow log's reader is behind: entries wait at the server.
        const waits = new Set();
        const wait = (reason) => {
            waits.add(reason);
            stream.pause();
        };
        const go = (reason) => {
            if (waits.delete(reason) && waits.size === 0)
                stream.resume();
        };
        const print = (entries) => {
            if (this.#print(entries, 'tail') || waits.has('reader'))
                return;
            wait('reader');
            void this.#io.drained().then(() => go('reader'));
        };
        const held = [];
        let backfilled = false;
        stream.on('data', (response) => {
            const entries = response.decode().entries ?? [];
            if (backfilled)
                return print(entries);
            held.push(...entries);
            if (held.length >= HOLD_LIMIT)
                wait('backfill');
        });
        const ended = new Promise((resolve, reject) => {
            stream.on('error', (err) => (this.#stopped && (0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .rpcCode */ .t4)(err) === google_gax__WEBPACK_IMPORTED_MODULE_2__.Status.CANCELLED ? resolve() : reject(err)));
            stream.on('end', resolve);
        });
        // The tail opens as the execution starts: what came before is at most a few pages.
        await Promise.race([this.#readPages({ maxPages: BACKFILL_PAGES }), ended]);
        backfilled = true;
        print(held.sort(byTime));
        held.length = 0;
        go('backfill');
        await ended;
    }
    /** Reads, page by page, the entries from the newest printed on, up to `maxPages` pages. */
    #readPages(options = {}) {
        const read = this.#pageReads.then(() => this.#readPagesNow(options));
        this.#pageReads = read.catch(() => undefined);
        return read;
    }
    async #readPagesNow({ maxPages = Infinity }) {
        this.#printed.pageReadStarted();
        try {
            await this.#readPagesFrom(this.#printed.newest(), maxPages);
        }
        finally {
            this.#printed.pageReadEnded();
        }
    }
    async #readPagesFrom(newest, maxPages) {
        const bounds = newest ? [`timestamp>="${newest}"`] : [];
        let pageToken = '';
        for (let page = 0; page < maxPages; page++) {
            const [entries, , response] = await this.#client.listLogEntries({
                resourceNames: [`projects/${this.#settings.project}`],
                filter: [this.#settings.filter, ...bounds].join('\n'),
                orderBy: 'timestamp asc',
                pageSize: 1000,
                pageToken,
            }, { autoPaginate: false });
            const keepingUp = this.#print(entries, 'page');
            pageToken = response?.nextPageToken ?? '';
            if (!keepingUp)
                await this.#io.drained();
            if (!pageToken || this.#stopped)
                return;
        }
    }
    /** Prints the entries not printed yet; false when the reader is behind (see Io.untrusted). */
    #print(entries, source) {
        const lines = [];
        for (const entry of entries) {
            if (!this.#printed.add(entry, source))
                continue;
            const task = Number(entry.labels?.[TASK_LABEL] ?? 0);
            const text = entry.textPayload ?? (entry.jsonPayload ? jsonText(entry.jsonPayload) : '');
            this.#exited.set(task, Boolean(entry.logName?.endsWith(SYSTEM_LOG)) && LAST_LINE.test(text));
            const prefix = this.#multiTask ? `[task ${task}${attemptSuffix(entry)}] ` : '';
            if (!text.includes('\n'))
                lines.push(prefix + (0,_sanitize_js__WEBPACK_IMPORTED_MODULE_5__/* .cleanLine */ .Ow)(text));
            else
                for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/))
                    lines.push(prefix + (0,_sanitize_js__WEBPACK_IMPORTED_MODULE_5__/* .cleanLine */ .Ow)(line));
        }
        if (lines.length === 0)
            return true;
        this.#lastArrival = Date.now();
        this.#last.push(...lines);
        this.#last.splice(0, Math.max(0, this.#last.length - this.#settings.tailLines));
        return this.#io.untrusted(lines);
    }
    #giveUp(err) {
        if (this.#failed)
            return;
        this.#failed = true;
        const denied = (0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .rpcCode */ .t4)(err) === google_gax__WEBPACK_IMPORTED_MODULE_2__.Status.PERMISSION_DENIED;
        const advice = denied
            ? "The workflow's identity cannot read logs: grant it roles/logging.viewer (logging.logEntries.list) to see them here."
            : 'Cloud Logging could not be read.';
        this.#io.warning(`${advice} The verdict still comes from the execution. Logs: ${this.#settings.logsUrl} (${(0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .errorMessage */ .gJ)(err)})`);
    }
}
/**
 * A structured entry (a line of JSON the job wrote) is printed as that JSON, less the fields
 * Logging lifts into the entry (severity...), not as the Struct it travels as.
 */
const jsonText = (payload) => JSON.stringify(google_gax__WEBPACK_IMPORTED_MODULE_2__.serializer.toProto3JSON((0,_gax_js__WEBPACK_IMPORTED_MODULE_4__/* .loggingMessage */ .Dx)('google.protobuf.Struct').fromObject(payload)));
const attemptSuffix = (entry) => {
    const attempt = Number(entry.labels?.[ATTEMPT_LABEL] ?? 0);
    return attempt > 0 ? `, attempt ${attempt + 1}` : '';
};
const instant = (entry) => [Number(entry.timestamp?.seconds ?? 0), entry.timestamp?.nanos ?? 0];
const compare = (a, b) => a[0] - b[0] || a[1] - b[1];
const byTime = (a, b) => compare(instant(a), instant(b));
/**
 * Printed tells which entries were printed, without remembering every id. An entry comes
 * twice only in these ways: a page read starts at the newest timestamp printed, so it returns
 * the entries at that timestamp again, and, as its filter was set when it began, also those
 * the tail prints while it runs; and the tail delivers entries that a page read printed while
 * the tail was open (the backfill, and the read that catches up at the end). So the ids kept
 * are those at the newest timestamp, those a page read under way may return again, and those
 * printed from pages while the tail is open: a few pages' worth however long the job prints.
 *
 * A set of ids is emptied by replacing it, never with clear(): once a set is in V8's old
 * generation, clear() allocates its new table there too, linked from the old one. Cleared for
 * nearly every entry of a chatty job, that doubled the action's peak memory in most runs.
 */
class Printed {
    #newest = [0, 0];
    #atNewest = new Set();
    #forRead = new Set();
    #fromPages = new Set();
    #tailOpen = true;
    #pageReading = false;
    /** add says whether an entry is new, and remembers it as printed if so. */
    add(entry, source) {
        const id = entry.insertId;
        if (!id || this.#atNewest.has(id) || this.#forRead.has(id) || this.#fromPages.has(id))
            return false;
        const time = instant(entry);
        const order = compare(time, this.#newest);
        if (order > 0) {
            this.#newest = time;
            this.#atNewest = new Set();
        }
        if (order >= 0)
            this.#atNewest.add(id);
        if (source === 'tail' && this.#pageReading)
            this.#forRead.add(id);
        if (source === 'page' && this.#tailOpen)
            this.#fromPages.add(id);
        return true;
    }
    /** A page read begins at the newest timestamp: the ids printed there are kept until it ends. */
    pageReadStarted() {
        this.#pageReading = true;
        for (const id of this.#atNewest)
            this.#forRead.add(id);
    }
    pageReadEnded() {
        this.#pageReading = false;
        this.#forRead = new Set();
    }
    /** The newest timestamp printed, as a Logging filter takes it, or '' before any entry. */
    newest() {
        const [seconds, nanos] = this.#newest;
        if (seconds === 0 && nanos === 0)
            return '';
        return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
    }
    /** Once the tail is closed, only page reads remain, and they overlap only at the newest timestamp. */
    tailClosed() {
        this.#tailOpen = false;
        this.#fromPages = new Set();
    }
}


/***/ })

};
