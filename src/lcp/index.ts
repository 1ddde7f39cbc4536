/** LCP: options, policy, echo keepalive, printer. */

export * from './echo.js';
export * from './option-set.js';
export * from './options.js';
export * from './policy.js';
export * from './printer.js';
