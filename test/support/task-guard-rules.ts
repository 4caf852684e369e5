import { deleteGuardRules, GUARD_COMMENT_PREFIX } from '@kumo/worker';

/**
 * Deletes every firewall rule a worker's NetworkGuard made. A worker killed with -9 in a fault test
 * leaves its rules (a restarted worker of the same name would clear them); a later test's server that
 * happened to get the same port would be out of its tasks' reach.
 */
export function clearTaskGuardRules(): void {
  deleteGuardRules(GUARD_COMMENT_PREFIX);
}
