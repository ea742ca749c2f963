// The subset of the Logging query language a client uses to select a job's
// entries: comparisons `FIELD OP VALUE` (OP one of = != > >= < <= :) joined by
// AND, OR, NOT / '-', parentheses, or whitespace (an implicit AND). As the
// language defines, NOT binds tightest, then OR, then AND. Anything else is
// INVALID_ARGUMENT naming the part that is not supported.
import {parseRfc3339, timestampNanos} from './clock.ts';
import {invalidArgument} from './errors.ts';
import type {Message} from './protos.ts';

export type EntryPredicate = (entry: Message) => boolean;

type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | ':';
type Scalar = string | number | bigint;

interface Field {
  kind: 'string' | 'severity' | 'timestamp';
  read(entry: Message): Scalar | undefined;
}

const SEVERITIES = ['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];
// LogSeverity values: DEFAULT 0, DEBUG 100, ... EMERGENCY 800.
const severityValue = (name: string) => SEVERITIES.indexOf(name.toUpperCase()) * 100;

const invalid = (message: string) => invalidArgument(`Invalid filter: ${message}`);

const TOP_LEVEL_FIELDS: Record<string, Field> = {
  logName: {kind: 'string', read: e => e.logName},
  insertId: {kind: 'string', read: e => e.insertId},
  textPayload: {kind: 'string', read: e => e.textPayload},
  severity: {kind: 'severity', read: e => severityValue(e.severity ?? 'DEFAULT')},
  timestamp: {kind: 'timestamp', read: e => (e.timestamp ? timestampNanos(e.timestamp) : undefined)},
  receiveTimestamp: {kind: 'timestamp', read: e => (e.receiveTimestamp ? timestampNanos(e.receiveTimestamp) : undefined)},
};

function resolveField(path: string[]): Field {
  const [head, second, third] = path;
  const snake = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (path.length === 1 && Object.hasOwn(TOP_LEVEL_FIELDS, snake(head!))) return TOP_LEVEL_FIELDS[snake(head!)]!;
  if (head === 'resource' && second === 'type' && path.length === 2) return {kind: 'string', read: e => e.resource?.type};
  if (head === 'resource' && second === 'labels' && path.length === 3) {
    return {kind: 'string', read: e => e.resource?.labels?.[third!]};
  }
  if (head === 'labels' && path.length === 2) return {kind: 'string', read: e => e.labels?.[second!]};
  throw invalid(`unsupported field '${path.join('.')}'`);
}

function order(a: Scalar, b: Scalar): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparison(path: string[], operator: Operator, raw: string, quoted: boolean): EntryPredicate {
  const field = resolveField(path);
  if (operator === ':' && raw === '*' && !quoted) return entry => field.read(entry) !== undefined;
  let target: Scalar = raw;
  if (field.kind === 'severity') {
    target = /^\d+$/.test(raw) ? Number(raw) : severityValue(raw);
    if (target < 0) throw invalid(`unknown severity '${raw}'`);
    if (operator === ':') operator = '=';
  } else if (field.kind === 'timestamp') {
    if (operator === ':') throw invalid(`operator ':' is not supported on '${path.join('.')}'`);
    target = parseRfc3339(raw);
  }
  const value = (entry: Message) => field.read(entry);
  switch (operator) {
    case '=':
      return entry => value(entry) === target;
    case '!=':
      return entry => value(entry) !== target;
    case ':':
      // "has": a case-insensitive substring match.
      return entry => {
        const actual = value(entry);
        return actual !== undefined && String(actual).toLowerCase().includes(raw.toLowerCase());
      };
    default: {
      const test = {'>': (c: number) => c > 0, '>=': (c: number) => c >= 0, '<': (c: number) => c < 0, '<=': (c: number) => c <= 0}[operator];
      return entry => {
        const actual = value(entry);
        return actual !== undefined && test(order(actual, target));
      };
    }
  }
}

class Parser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): EntryPredicate {
    const predicate = this.#sequence();
    this.#skipSpace();
    if (this.#pos < this.#text.length) throw invalid(`unexpected '${this.#text.slice(this.#pos, this.#pos + 20)}'`);
    return predicate;
  }

  // Terms joined by AND or juxtaposition.
  #sequence(): EntryPredicate {
    const terms: EntryPredicate[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#pos >= this.#text.length || this.#peek(')')) break;
      if (terms.length) this.#keyword('AND');
      terms.push(this.#disjunction());
    }
    if (!terms.length) throw invalid(`empty expression at position ${this.#pos}`);
    return entry => terms.every(term => term(entry));
  }

  #disjunction(): EntryPredicate {
    const terms = [this.#term()];
    while (this.#keyword('OR')) terms.push(this.#term());
    return entry => terms.some(term => term(entry));
  }

  #term(): EntryPredicate {
    this.#skipSpace();
    if (this.#keyword('NOT') || this.#consume('-')) {
      const negated = this.#term();
      return entry => !negated(entry);
    }
    if (this.#consume('(')) {
      const inner = this.#sequence();
      this.#skipSpace();
      if (!this.#consume(')')) throw invalid(`missing ')' at position ${this.#pos}`);
      return inner;
    }
    return this.#comparison();
  }

  #comparison(): EntryPredicate {
    const start = this.#pos;
    const path = this.#fieldPath();
    this.#skipSpace();
    if (this.#peek('(')) throw invalid(`unsupported function '${path.join('.')}'`);
    const operator = this.#operator();
    if (!operator) {
      const word = this.#text.slice(start, Math.max(this.#pos, start + 1)).trim();
      throw invalid(`unsupported global restriction '${word}': only FIELD OPERATOR VALUE comparisons are supported`);
    }
    this.#skipSpace();
    const {text, quoted} = this.#value();
    return comparison(path, operator, text, quoted);
  }

  #fieldPath(): string[] {
    const path: string[] = [];
    do {
      if (this.#peek('"')) path.push(this.#quoted());
      else {
        const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.#text.slice(this.#pos));
        if (!match) throw invalid(`expected a field name at position ${this.#pos}`);
        path.push(match[0]);
        this.#pos += match[0].length;
      }
    } while (this.#consume('.'));
    return path;
  }

  #operator(): Operator | undefined {
    const rest = this.#text.slice(this.#pos);
    if (rest.startsWith('=~') || rest.startsWith('!~')) throw invalid(`unsupported operator '${rest.slice(0, 2)}' (regular expressions)`);
    const operator = ['>=', '<=', '!=', '=', '>', '<', ':'].find(op => rest.startsWith(op)) as Operator | undefined;
    if (operator) this.#pos += operator.length;
    return operator;
  }

  #value(): {text: string; quoted: boolean} {
    if (this.#peek('"')) return {text: this.#quoted(), quoted: true};
    const match = /^[^\s()"]+/.exec(this.#text.slice(this.#pos));
    if (!match) throw invalid(`missing value at position ${this.#pos}`);
    this.#pos += match[0].length;
    return {text: match[0], quoted: false};
  }

  #quoted(): string {
    let result = '';
    for (this.#pos++; this.#pos < this.#text.length; this.#pos++) {
      const char = this.#text[this.#pos]!;
      if (char === '"') {
        this.#pos++;
        return result;
      }
      if (char === '\\') this.#pos++;
      result += this.#text[this.#pos] ?? '';
    }
    throw invalid('unterminated string');
  }

  #keyword(word: 'AND' | 'OR' | 'NOT'): boolean {
    this.#skipSpace();
    const rest = this.#text.slice(this.#pos);
    if (!rest.startsWith(word) || !/^(\s|\(|$)/.test(rest.slice(word.length))) return false;
    this.#pos += word.length;
    return true;
  }

  #peek(char: string): boolean {
    return this.#text[this.#pos] === char;
  }

  #consume(char: string): boolean {
    if (!this.#peek(char)) return false;
    this.#pos++;
    return true;
  }

  #skipSpace(): void {
    while (/\s/.test(this.#text[this.#pos] ?? '')) this.#pos++;
  }
}

/** A predicate over LogEntry messages; an empty filter matches every entry. */
export function parseFilter(filter: string | undefined): EntryPredicate {
  if (!filter?.trim()) return () => true;
  if (filter.length > 20_000) throw invalid('longer than 20,000 characters');
  return new Parser(filter).parse();
}
