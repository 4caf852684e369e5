/** Two regions' zones and a subnetwork for each: the pools of the capacity tests. */
export const CENTRAL = ['us-central1-a', 'us-central1-b', 'us-central1-c'];
export const TOKYO = ['asia-northeast1-a', 'asia-northeast1-b', 'asia-northeast1-c'];
export const SUBNETS = {
  'us-central1': 'regions/us-central1/subnetworks/kumo-workers',
  'asia-northeast1': 'regions/asia-northeast1/subnetworks/kumo-workers',
};
