/**
 * The reference app's schema, as numbered migrations that db.js applies at startup.
 *
 * The rule (expand/contract). During a release both slots run against ONE database: blue (the old
 * code) keeps serving while green (the new code) starts and migrates, and a rollback sends traffic
 * back to blue after green's migration has run. A migration therefore must leave the schema usable
 * by the code of the release before it:
 *
 *   expand (any release):   CREATE TABLE, ADD COLUMN that is nullable or has a default, CREATE
 *                           INDEX, a new constraint that the old code's writes cannot break.
 *   contract (one release   DROP COLUMN/TABLE, RENAME, ALTER … TYPE, SET NOT NULL, anything the
 *   later, its own entry):  old code still reads or writes. Ship it only once no slot runs code
 *                           that uses the old shape, and mark the entry `contract: "<why it is safe
 *                           now>"`.
 *
 * A released migration is never edited (db.js records a checksum and warns when it changes): fix
 * forward with a new version. Versions are 1, 2, 3, … without gaps. {@link checkMigrations} refuses
 * an entry that breaks these rules; the tests run it on this list, so CI rejects an unmarked DROP.
 * Each entry's SQL runs inside one transaction with every other pending entry, so a migration can
 * use neither CREATE INDEX CONCURRENTLY nor anything else PostgreSQL forbids in a transaction.
 */
"use strict";

/** @type {ReadonlyArray<{version: number, name: string, sql: string, contract?: string}>} */
const MIGRATIONS = [
    {
        version: 1,
        name: "items",
        // Ids are random UUIDs rather than a sequence: after an asynchronous failover the promoted
        // replica may lack the old primary's last writes, and a sequence would hand their ids out
        // again to different items; a UUID is never reused. gen_random_uuid() is built in from
        // PostgreSQL 13. The idempotency key makes a retried POST return the item it created
        // (NULL keys never conflict, so requests without one always insert).
        sql: `CREATE TABLE IF NOT EXISTS items (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    idempotency_key text UNIQUE CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    created_at      timestamptz NOT NULL DEFAULT now()
)`,
    },
];

/**
 * Statements that break code of the previous release. A heuristic over the SQL text (comments and
 * string literals are not parsed), so it errs on the side of refusing: a false alarm is settled by
 * marking the entry `contract` with the reason.
 */
const DESTRUCTIVE = [
    /\bDROP\s+(TABLE|COLUMN|VIEW|TYPE|SCHEMA|FUNCTION)\b/i,
    /\bALTER\s+TABLE\b[\s\S]*\bDROP\b/i,
    /\bRENAME\b/i,
    /\bALTER\s+COLUMN\b[\s\S]*\b(TYPE|SET\s+NOT\s+NULL|SET\s+DATA\s+TYPE)\b/i,
    /\bTRUNCATE\b/i,
    /\bDELETE\s+FROM\b/i,
    /\bADD\s+(COLUMN\s+)?(?![\s\S]*\bDEFAULT\b)[\s\S]*\bNOT\s+NULL\b/i,
];

/** Problems with a migration list (empty when it follows the rules above). */
function checkMigrations(migrations) {
    const problems = [];
    migrations.forEach((m, i) => {
        const where = `migration ${m.version ?? `#${i + 1}`}${m.name ? ` (${m.name})` : ""}`;
        if (m.version !== i + 1) {
            problems.push(`${where}: versions must be 1, 2, 3, … in order without gaps; expected ${i + 1}`);
        }
        if (typeof m.name !== "string" || !/^[a-z0-9_]{1,63}$/.test(m.name)) {
            problems.push(`${where}: name must be 1-63 lowercase letters, digits or _`);
        }
        if (typeof m.sql !== "string" || m.sql.trim() === "") {
            problems.push(`${where}: no SQL`);
            return;
        }
        if (/\bCONCURRENTLY\b/i.test(m.sql) || /^\s*(BEGIN|COMMIT|ROLLBACK)\b/im.test(m.sql)) {
            problems.push(`${where}: runs inside the migration transaction; no CONCURRENTLY and no BEGIN/COMMIT/ROLLBACK`);
        }
        const destructive = DESTRUCTIVE.find((re) => re.test(m.sql));
        if (destructive && !(typeof m.contract === "string" && m.contract.trim().length >= 10)) {
            problems.push(
                `${where}: ${JSON.stringify(m.sql.match(destructive)?.[0])} would break the slot still running the previous release; ` +
                    `ship it one release later as a contract step and say why it is safe in \`contract: "…"\``,
            );
        }
    });
    return problems;
}

module.exports = { MIGRATIONS, checkMigrations };
