#!/usr/bin/env node
/**
 * Container health check for the reference APFA service: exits 0 when
 * http://127.0.0.1:$PORT/health answers 200 within 2 s, else 1.
 * Used as the image's HEALTHCHECK and by the Docker target (["CMD", "node", "/app/healthcheck.js"]).
 */
"use strict";

const http = require("node:http");

const port = process.env.PORT && process.env.PORT !== "" ? process.env.PORT : "8000";
const TIMEOUT_MS = 2000;

const fail = (why) => {
    process.stderr.write(`healthcheck: ${why}\n`);
    process.exit(1);
};

const timer = setTimeout(() => fail(`no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS);
const req = http.get({ host: "127.0.0.1", port, path: "/health", timeout: TIMEOUT_MS }, (res) => {
    res.resume();
    clearTimeout(timer);
    if (res.statusCode === 200) {
        process.exit(0);
    }
    fail(`/health answered ${res.statusCode}`);
});
req.on("timeout", () => req.destroy(new Error("timed out")));
req.on("error", (err) => fail(err.message));
