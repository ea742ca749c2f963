// A small but real migration tool, the kind a team ships in its image: it applies the SQL
// files in ./migrations to a SQLite database, in order, each once, each in a transaction.
// Usage: node migrate.mjs [up|status]; the database is $DATABASE_PATH.
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {DatabaseSync} from 'node:sqlite';

const dir = join(import.meta.dirname, process.env.MIGRATIONS_DIR ?? 'migrations');
const path = process.env.DATABASE_PATH;
if (!path) {
  console.error('DATABASE_PATH is not set');
  process.exit(2);
}
const command = process.argv[2] ?? 'up';
const db = new DatabaseSync(path);
// The database's own lock is what keeps two migrations apart, whatever runs them.
db.exec('PRAGMA busy_timeout = 5000');
db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
const applied = new Set(db.prepare('SELECT version FROM schema_migrations').all().map((row) => row.version));
const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
const pending = files.filter((f) => !applied.has(f));

console.log(`Database ${path}: ${applied.size} applied, ${pending.length} pending.`);
if (command === 'status') process.exit(0);
if (command !== 'up') {
  console.error(`Unknown command "${command}": expected up or status`);
  process.exit(2);
}
for (const file of pending) {
  const started = performance.now();
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(readFileSync(join(dir, file), 'utf8'));
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(file, new Date().toISOString());
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    console.error(`Migration ${file} failed: ${err.message}`);
    process.exit(1);
  }
  console.log(`Applied ${file} in ${(performance.now() - started).toFixed(1)} ms`);
}
console.log(pending.length ? `Done: ${pending.length} migrations applied.` : 'Nothing to do: the schema is up to date.');
