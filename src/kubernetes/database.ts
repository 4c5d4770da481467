/**
 * APFA's database connection on Kubernetes (AKS and GKE): libpq's plain settings become chart `env`,
 * the password a Secret in APFA's namespace that the chart reads through `secretEnv`
 * (`valueFrom.secretKeyRef`), so the password is in no Helm values, release history or plan; and
 * an egress NetworkPolicy opens exactly the database's address ranges on its port (the namespace
 * denies all egress by default).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { PASSWORD_ENV, libpqEnvironment } from "../config/database";
import type { Database } from "../contract";
import { APFA_POD_SELECTOR } from "./network-policy";

/** The Secret holding the database password, in APFA's namespace. */
export const DATABASE_SECRET_NAME = "apfa-database";
/** Its key. */
export const DATABASE_SECRET_KEY = "password";

/** The chart values a database adds to both slots: plain env, and PGPASSWORD from the Secret. */
export function databaseChartValues(env: Readonly<Record<string, string>>): Record<string, unknown> {
    return {
        env: { ...env },
        secretEnv: { [PASSWORD_ENV]: { secretName: DATABASE_SECRET_NAME, key: DATABASE_SECRET_KEY } },
    };
}

/** Egress of APFA's pods to the database: its port, its address ranges, nothing else. */
export function databaseEgressSpec(cidrs: readonly pulumi.Input<string>[], port: number): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { ...APFA_POD_SELECTOR.matchLabels } },
        policyTypes: ["Egress"],
        egress: [{ to: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port }] }],
    };
}

export interface DatabaseAccess {
    /** Chart values for both slots (resolved once the database's host is known). */
    readonly values: pulumi.Output<Record<string, unknown>>;
    /** What the slots' releases must wait for: the Secret (a pod cannot start without it) and the egress policy. */
    readonly dependencies: pulumi.Resource[];
}

/** Creates the Secret and the egress policy of APFA's database in `namespace`. */
export function createDatabaseAccess(
    name: string,
    database: Database,
    args: { namespace: pulumi.Input<string>; labels: Record<string, string>; provider: k8s.Provider; dependsOn: pulumi.Resource[] },
    parent: pulumi.Resource,
): DatabaseAccess {
    const { connection } = database;
    if (connection.password.kind !== "value") {
        throw new pulumi.ResourceError("on Kubernetes the database password must be a value the program holds (kind: value)", parent);
    }
    const opts = { parent, provider: args.provider, dependsOn: args.dependsOn };
    const secret = new k8s.core.v1.Secret(
        `${name}-database-secret`,
        {
            metadata: { name: DATABASE_SECRET_NAME, namespace: args.namespace, labels: args.labels },
            type: "Opaque",
            stringData: { [DATABASE_SECRET_KEY]: pulumi.secret(connection.password.value) },
        },
        opts,
    );
    const dependencies: pulumi.Resource[] = [secret];
    if (database.egressCidrs && database.egressCidrs.length > 0) {
        dependencies.push(
            new k8s.networking.v1.NetworkPolicy(
                `${name}-netpol-database`,
                {
                    metadata: { name: "apfa-database-egress", namespace: args.namespace, labels: args.labels },
                    spec: databaseEgressSpec(database.egressCidrs, connection.port),
                },
                opts,
            ),
        );
    }
    const values = pulumi
        .output(libpqEnvironment(connection))
        .apply((env) => databaseChartValues(env as Record<string, string>));
    return { values, dependencies };
}
