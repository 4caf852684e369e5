import { defineScript, reply } from './lua-script';

const lua = (file: string): URL => new URL(`./lua/${file}`, import.meta.url);

/** The store's Lua scripts (store/lua/), each with its keys by name; see lua-script.ts for the rules. */
export const storeScripts = {
  createJob: defineScript(
    lua('createJob-5.lua'),
    ['job', 'jobsIndex', 'poolActive', 'idempotency', 'pool'],
    reply.array<[number, string?]>,
  ),
  advanceFeed: defineScript(lua('advanceFeed-2.lua'), ['job', 'done'], reply.done),
  endJob: defineScript(lua('endJob-4.lua'), ['job', 'poolActive', 'listing', 'gang'], reply.integer),
  deleteJob: defineScript(
    lua('deleteJob-17.lua'),
    [
      'job',
      'jobsIndex',
      'metricsFold',
      'poolActive',
      'idempotency',
      'done',
      'running',
      'rate',
      'failedBits',
      'contributors',
      'failures',
      'results',
      'listing',
      'gang',
      'lost',
      'evaluations',
      'evaluationSlots',
    ],
    reply.integer,
  ),
  holdJob: defineScript(lua('holdJob-1.lua'), ['job'], reply.string),
  applyTaskEvents: defineScript(
    lua('applyTaskEvents-14.lua'),
    [
      'job',
      'done',
      'running',
      'rate',
      'failures',
      'results',
      'poolActive',
      'user',
      'listing',
      'gang',
      'failedBits',
      'contributors',
      'contributorsOfDay',
      'spendMonth',
    ],
    reply.array<[string, number, number, number] | []>,
  ),
  moveVm: defineScript(lua('moveVm-2.lua'), ['vm', 'poolVms'], reply.array<[number, string?]>),
  feedTasks: defineScript(
    lua('feedTasks-8.lua'),
    ['wait', 'paused', 'meta', 'active', 'events', 'marker', 'id', 'done'],
    reply.integer,
  ),
  joinGang: defineScript(lua('joinGang-2.lua'), ['gang', 'job'], reply.array<[number, number]>),
  breakGang: defineScript(lua('breakGang-1.lua'), ['gang'], reply.done),
  leaveGang: defineScript(lua('leaveGang-1.lua'), ['gang'], reply.integer),
  reserveEvaluation: defineScript(lua('reserveEvaluation-1.lua'), ['slots'], reply.done),
};
