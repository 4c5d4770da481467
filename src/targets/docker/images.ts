/** Images of the dev stack's own infrastructure, pinned in one place. */

/** The weighted proxy: official nginx, alpine variant (has busybox wget for the health check). */
export const PROXY_IMAGE = "nginx:1.29.3-alpine";
