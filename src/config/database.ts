/**
 * `apfa:database`: APFA's PostgreSQL database, the keys every target shares.
 *
 * SHARED KEYS (the contract with every target; the Azure and GCP databases read the same ones):
 *
 * | key                   | type    | default             | meaning                                         |
 * |-----------------------|---------|---------------------|-------------------------------------------------|
 * | `enabled`             | boolean | true                | create the database and give the app its PG* env |
 * | `name`                | string  | "apfa"              | the database APFA connects to (PGDATABASE)       |
 * | `user`                | string  | "apfa"              | the login APFA connects as (PGUSER)              |
 * | `majorVersion`        | integer | 17                  | PostgreSQL major version; each target checks it against the versions its platform offers ({@link engineVersionProblem}) |
 * | `backupRetentionDays` | integer | 7                   | automated backups / point-in-time recovery window, 1-35 (a platform may narrow it: Azure 7-35, Cloud SQL's log retention 1-7) |
 * | `deletionProtection`  | boolean | stack is production | the platform's deletion protection plus Pulumi `protect` on the stateful resources |
 *
 * Sizing (Aurora capacity, Flexible Server SKU, Cloud SQL tier) and anything else a single
 * platform has lives in that cloud's settings (`apfa:<cloud>.database`), next to its list of
 * allowed major versions. Resolved values reach targets as {@link DatabaseSettings}
 * (`config.database`), with `deletionProtection` already decided.
 *
 * For a target's database module:
 * - its stack rules call {@link engineVersionProblem} with the platform's majors (and
 *   {@link databaseEnabled} before judging its own `database` settings);
 * - it implements `Database` (src/contract.ts) and hands it to the cluster (`ApfaCluster.database`,
 *   through `ApfaClusterBase.complete({ database })`); `deletionProtection` means the platform's flag
 *   AND Pulumi `protect` on the stateful resources;
 * - the app's environment comes from {@link libpqEnvironment} plus {@link PASSWORD_ENV} from the
 *   target's secret store; on Kubernetes pass the database to `KubernetesApfa` (`args.database`),
 *   which creates the `apfa-database` Secret from a `{ kind: "value" }` password and opens egress
 *   to `Database.egressCidrs` on the connection's port.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

import type { DatabaseConnection } from "../contract";
import { NAMESPACE, valid } from "./common";

/**
 * Names PostgreSQL or a managed platform keeps for itself (RDS: rdsadmin; Azure: azure_superuser,
 * azure_pg_admin and its reserved logins; Cloud SQL: cloudsqladmin, cloudsqlsuperuser and the
 * built-in postgres user), refused as APFA's login. Names starting `pg_` are reserved by PostgreSQL.
 */
const RESERVED_USERS = ["postgres", "admin", "administrator", "root", "guest", "public", "rdsadmin", "rds_superuser", "azure_superuser", "azure_pg_admin", "cloudsqladmin", "cloudsqlsuperuser"];
/** Databases every server already has, or that a platform keeps for itself. */
const RESERVED_DATABASES = ["postgres", "template0", "template1", "rdsadmin", "azure_maintenance", "azure_sys", "cloudsqladmin"];

/**
 * A lower-case PostgreSQL identifier of at most 63 bytes (NAMEDATALEN - 1) that needs no quoting
 * and that RDS (letter first, then letters, digits, _), Azure and Cloud SQL all accept.
 */
const identifier = (what: string, reserved: readonly string[]) =>
    z
        .string()
        .regex(/^[a-z][a-z0-9_]{0,62}$/, `expected a ${what}: a lower-case letter, then up to 62 lower-case letters, digits or _`)
        .refine((name) => !reserved.includes(name) && !name.startsWith("pg_"), {
            message: `reserved by PostgreSQL or a managed platform (${reserved.join(", ")}, pg_*); choose another name`,
        });

export const databaseSchema = z.strictObject({
    /** Create APFA's database and give every app container its connection (PG* environment). @default true */
    enabled: z.boolean().default(true),
    /** The database APFA uses (PGDATABASE). @default "apfa" */
    name: identifier("database name", RESERVED_DATABASES).default("apfa"),
    /** The login APFA connects as (PGUSER; the platform's admin login on the managed databases). @default "apfa" */
    user: identifier("user name", RESERVED_USERS).default("apfa"),
    /**
     * PostgreSQL major version. Only the major is pinned: the platform applies minor versions
     * (a pinned minor would drift as soon as the platform upgrades it). Each target accepts the
     * majors its platform offers (see its settings). @default 17
     */
    majorVersion: z.number().int().min(10).max(99).default(17),
    /** Days of automated backups (the point-in-time recovery window). @default 7 */
    backupRetentionDays: z.number().int().min(1).max(35).default(7),
    /**
     * Refuse to delete the database: the platform's own deletion protection and Pulumi's `protect`.
     * README "Data tier" says how to destroy a protected stack on purpose.
     * @default true when the stack is tagged `environment: production`, else false
     */
    deletionProtection: z.boolean().optional(),
});

type ParsedDatabase = z.output<typeof databaseSchema>;

/** `apfa:database` as targets receive it (`config.database`). */
export interface DatabaseSettings extends Omit<ParsedDatabase, "deletionProtection"> {
    /** Decided: the configured value, else whether the stack is production. */
    readonly deletionProtection: boolean;
}

/** Resolves the defaults that depend on other keys. */
export function toDatabaseSettings(parsed: ParsedDatabase, production: boolean): DatabaseSettings {
    return { ...parsed, deletionProtection: parsed.deletionProtection ?? production };
}

/** The port every target's PostgreSQL listens on (PGPORT). */
export const POSTGRES_PORT = 5432;

/**
 * The problem of a stack whose `apfa:database.majorVersion` the target's platform does not offer,
 * or undefined (also when the database is disabled or the key is itself invalid: the schema
 * reports that). Each cloud's stack rules call it with its own list.
 */
export function engineVersionProblem(own: Readonly<Record<string, unknown>>, allowed: readonly number[], platform: string): string | undefined {
    // Each field judged on its own: another bad key of apfa:database must not hide this one.
    const raw = rawDatabase(own);
    const major = valid(databaseSchema.shape.majorVersion, raw.majorVersion);
    if (!databaseEnabled(own) || major === undefined || allowed.includes(major)) {
        return undefined;
    }
    return `${NAMESPACE}:database.majorVersion: ${platform} does not offer PostgreSQL ${major}; expected one of ${allowed.join(", ")}`;
}

function rawDatabase(own: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const raw = own.database;
    return typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
}

/** Whether the stack has a database (for rules of per-cloud database settings). */
export function databaseEnabled(own: Readonly<Record<string, unknown>>): boolean {
    return valid(databaseSchema.shape.enabled, rawDatabase(own).enabled) ?? true;
}

/** The one environment variable of the connection that is secret on every target. */
export const PASSWORD_ENV = "PGPASSWORD";

/**
 * The plain part of a connection as libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER,
 * PGSSLMODE); PGPASSWORD is never in it: each target adds it from its secret store.
 */
export function libpqEnvironment(connection: DatabaseConnection): Record<string, pulumi.Input<string>> {
    return {
        PGHOST: connection.host,
        PGPORT: String(connection.port),
        PGDATABASE: connection.database,
        PGUSER: connection.user,
        PGSSLMODE: connection.sslMode,
    };
}
