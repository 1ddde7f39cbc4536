/** The generic PPP control-protocol core. */

export * from './bytes.js';
export * from './codes.js';
export * from './errors.js';
export * from './format.js';
export * from './fsm.js';
export * from './fsm-table.js';
export * from './ipv4.js';
export * from './options.js';
export * from './packet.js';
export * from './policy.js';
export * from './protocols.js';
