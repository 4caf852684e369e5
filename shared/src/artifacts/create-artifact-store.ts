import { KumoError } from '../errors';
import type { ArtifactStore } from './artifact-store';
import { GcsArtifactStore } from './gcs-artifact-store';
import { LocalArtifactStore } from './local-artifact-store';

/**
 * The one place configuration becomes an artifact store: a GCS bucket when KUMO_ARTIFACTS_BUCKET is set
 * (KUMO_STORAGE_ENDPOINT replaces the GCS endpoint for tests and emulators), else a local folder.
 */
export function createArtifactStore(opts: {
  bucket?: string;
  projectId?: string;
  endpoint?: string;
  localDir: string;
}): ArtifactStore {
  if (!opts.bucket) return new LocalArtifactStore({ root: opts.localDir });
  if (!opts.projectId) throw new KumoError('CONFIG_INVALID', 'KUMO_ARTIFACTS_BUCKET needs GOOGLE_CLOUD_PROJECT');
  return new GcsArtifactStore({
    bucket: opts.bucket,
    projectId: opts.projectId,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  });
}
