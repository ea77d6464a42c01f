#!/usr/bin/env node
/**
 * Entry point of `clavitor-commercial`. It first installs the SIGHUP holder (early-signals.ts) — a module with no
 * dependencies, so it runs within milliseconds of start — and only then loads the server, whose
 * module graph takes a few hundred milliseconds to load: a SIGHUP in that window must not kill it.
 */
import './early-signals.js';

await import('./clavitor-commercial-main.js');
