export const id = 736;
export const ids = [736];
export const modules = {

/***/ 89736:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   LogFollower: () => (/* binding */ LogFollower)
/* harmony export */ });
/* harmony import */ var node_timers_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(58500);
/* harmony import */ var node_timers_promises__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_timers_promises__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _google_cloud_logging_api_build_src_v2_logging_service_v2_client_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(23431);
/* harmony import */ var google_gax__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(83232);
/* harmony import */ var google_gax__WEBPACK_IMPORTED_MODULE_2___default = /*#__PURE__*/__webpack_require__.n(google_gax__WEBPACK_IMPORTED_MODULE_2__);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(83916);
/* harmony import */ var _outcome_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(34671);
/* harmony import */ var _sanitize_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(25540);
/* harmony import */ var _time_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(29834);







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
        this.#client = new _google_cloud_logging_api_build_src_v2_logging_service_v2_client_js__WEBPACK_IMPORTED_MODULE_1__/* .LoggingServiceV2Client */ .O(options);
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
        const tasks = (0,_outcome_js__WEBPACK_IMPORTED_MODULE_5__/* .hasStarted */ .gd)(execution) ? (execution.taskCount ?? 1) : 0;
        const caughtUp = () => this.#failed || Array.from({ length: tasks }, (_, i) => this.#exited.get(i)).every(Boolean);
        const completed = (0,_time_js__WEBPACK_IMPORTED_MODULE_6__/* .millis */ .n)(execution.completionTime) || Date.now();
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
            stream.on('error', (err) => (this.#stopped && (0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .rpcCode */ .t4)(err) === google_gax__WEBPACK_IMPORTED_MODULE_2__.Status.CANCELLED ? resolve() : reject(err)));
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
                lines.push(prefix + (0,_sanitize_js__WEBPACK_IMPORTED_MODULE_4__/* .cleanLine */ .Ow)(line));
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
        const denied = (0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .rpcCode */ .t4)(err) === google_gax__WEBPACK_IMPORTED_MODULE_2__.Status.PERMISSION_DENIED;
        const advice = denied
            ? "The workflow's identity cannot read logs: grant it roles/logging.viewer (logging.logEntries.list) to see them here."
            : 'Cloud Logging could not be read.';
        this.#io.warning(`${advice} The verdict still comes from the execution. Logs: ${this.#settings.logsUrl} (${(0,_errors_js__WEBPACK_IMPORTED_MODULE_3__/* .errorMessage */ .gJ)(err)})`);
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
    const ms = Math.floor((0,_time_js__WEBPACK_IMPORTED_MODULE_6__/* .millis */ .n)(t));
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
