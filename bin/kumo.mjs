#!/usr/bin/env node
// The `kumo` command: runs the TypeScript CLI through tsx's loader, registered in this same process
// (no second node to spawn, so signals and exit codes need no forwarding).
import { register } from 'tsx/esm/api';

register();
await import('../services/cli/src/main.ts');
