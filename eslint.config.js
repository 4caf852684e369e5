// The configuration and its install live in tools/lint/ (see the comment at the top of tools/lint/eslint.config.js).
export { default } from './tools/lint/eslint.config.js';
