/**
 * OAuth access tokens for the Azure and GCP REST adapters, from the identity the controller's pod
 * or VM already has — no client secret in config. Each provider caches its token until shortly
 * before it expires.
 *
 *   Azure, AKS workload identity  AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and
 *                                 AZURE_AUTHORITY_HOST (set by the workload identity webhook): the
 *                                 projected service-account token is exchanged for an Entra token
 *                                 (client_credentials with a jwt-bearer client assertion).
 *   Azure, managed identity       the instance metadata service (IMDS) at 169.254.169.254.
 *   GCP                           the metadata server (on GKE with Workload Identity Federation, the
 *                                 GKE metadata server answers for the pod's Kubernetes service account).
 */
import * as fs from "node:fs";

import { expectOk, type FetchLike } from "./types";

export interface TokenProvider {
    token(): Promise<string>;
}

/** A fixed token (tests, or a token minted by a wrapper script). */
export class StaticTokenProvider implements TokenProvider {
    constructor(private readonly value: string) {}
    token(): Promise<string> {
        return Promise.resolve(this.value);
    }
}

/** Caches what `fetchToken` returns until `refreshMarginMs` before its expiry. */
abstract class CachingProvider implements TokenProvider {
    private cached?: { value: string; expiresAt: number };

    constructor(
        protected readonly fetchFn: FetchLike,
        private readonly now: () => number = Date.now,
        private readonly refreshMarginMs = 300_000,
    ) {}

    protected abstract fetchToken(): Promise<{ value: string; expiresInSeconds: number }>;

    async token(): Promise<string> {
        if (this.cached && this.now() < this.cached.expiresAt - this.refreshMarginMs) {
            return this.cached.value;
        }
        const fresh = await this.fetchToken();
        this.cached = { value: fresh.value, expiresAt: this.now() + fresh.expiresInSeconds * 1000 };
        return fresh.value;
    }
}

function tokenFrom(body: unknown, what: string): { value: string; expiresInSeconds: number } {
    const b = body as { access_token?: unknown; expires_in?: unknown };
    if (typeof b.access_token !== "string" || b.access_token === "") {
        throw new Error(`${what}: the response has no access_token`);
    }
    // IMDS sends expires_in as a string, Entra and Google as a number.
    const expires = Number(b.expires_in);
    return { value: b.access_token, expiresInSeconds: Number.isFinite(expires) && expires > 0 ? expires : 300 };
}

export const AZURE_MANAGEMENT_SCOPE = "https://management.azure.com/.default";

/** Azure managed identity through IMDS (VMs, VM scale sets, AKS node identity). */
export class AzureManagedIdentityProvider extends CachingProvider {
    constructor(
        fetchFn: FetchLike,
        private readonly clientId?: string,
        now?: () => number,
    ) {
        super(fetchFn, now);
    }

    protected async fetchToken() {
        const url = new URL("http://169.254.169.254/metadata/identity/oauth2/token");
        url.searchParams.set("api-version", "2018-02-01");
        url.searchParams.set("resource", "https://management.azure.com/");
        if (this.clientId) {
            url.searchParams.set("client_id", this.clientId);
        }
        const res = await this.fetchFn(url.toString(), { headers: { Metadata: "true" }, signal: AbortSignal.timeout(5000) });
        return tokenFrom(await expectOk(res, "Azure IMDS token"), "Azure IMDS token");
    }
}

/** AKS workload identity: exchange the projected service-account token for an Entra access token. */
export class AzureWorkloadIdentityProvider extends CachingProvider {
    constructor(
        fetchFn: FetchLike,
        private readonly settings: { clientId: string; tenantId: string; tokenFile: string; authorityHost: string },
        now?: () => number,
    ) {
        super(fetchFn, now);
    }

    protected async fetchToken() {
        // Re-read on every exchange: the kubelet rotates the projected token.
        const assertion = fs.readFileSync(this.settings.tokenFile, "utf8").trim();
        const authority = this.settings.authorityHost.replace(/\/+$/, "");
        const body = new URLSearchParams({
            grant_type: "client_credentials",
            client_id: this.settings.clientId,
            scope: AZURE_MANAGEMENT_SCOPE,
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: assertion,
        });
        const res = await this.fetchFn(`${authority}/${encodeURIComponent(this.settings.tenantId)}/oauth2/v2.0/token`, {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: body.toString(),
            signal: AbortSignal.timeout(10_000),
        });
        return tokenFrom(await expectOk(res, "Entra token exchange"), "Entra token exchange");
    }
}

/** The GCE/GKE metadata server's token for the workload's service account. */
export class GcpMetadataTokenProvider extends CachingProvider {
    protected async fetchToken() {
        const res = await this.fetchFn("http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", {
            headers: { "Metadata-Flavor": "Google" },
            signal: AbortSignal.timeout(5000),
        });
        return tokenFrom(await expectOk(res, "GCP metadata token"), "GCP metadata token");
    }
}

/** The Azure provider the environment calls for: workload identity when its variables are set, else IMDS. */
export function azureTokenProviderFromEnv(env: NodeJS.ProcessEnv, fetchFn: FetchLike): TokenProvider {
    if (env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID) {
        return new AzureWorkloadIdentityProvider(fetchFn, {
            clientId: env.AZURE_CLIENT_ID,
            tenantId: env.AZURE_TENANT_ID,
            tokenFile: env.AZURE_FEDERATED_TOKEN_FILE,
            authorityHost: env.AZURE_AUTHORITY_HOST ?? "https://login.microsoftonline.com/",
        });
    }
    return new AzureManagedIdentityProvider(fetchFn, env.AZURE_CLIENT_ID);
}
