/**
 * Compute Engine list prices in USD per hour, us-central1. Source: Google Cloud Compute Engine pricing
 * pages, VM instance pricing (general-purpose, compute-optimized and accelerator-optimized machine
 * families; GPU pricing), as of March 2024. These are list prices: refresh them from those pages (or
 * set `prices` on a pool, e.g. from your billing export) before trusting a budget to the cent.
 *
 * Standard (on-demand) prices are the published list. Spot prices are a snapshot: Google moves them
 * as often as once a day, by region, so treat them as estimates.
 *
 * GPU machine types (A2, A3, G2) are priced per machine, the attached GPUs included. CPU families are
 * priced per vCPU-hour and per GB-hour of memory, as Google publishes them; a machine type's price is
 * its vCPUs and memory at those rates (see machineShape in prices.ts).
 */
export const PRICE_TABLE_DATE = '2024-03-28';
export const PRICE_TABLE_SOURCE =
  'Google Cloud Compute Engine pricing pages, VM instance pricing, as of March 2024 (list prices; spot a snapshot)';

export interface MachinePrice {
  onDemand: number;
  spot: number;
}

/** Whole-machine prices (VM + attached GPUs), us-central1. */
export const MACHINE_PRICES: Record<string, MachinePrice> = {
  // A2: A100 40 GB (highgpu, megagpu) and A100 80 GB (ultragpu).
  'a2-highgpu-1g': { onDemand: 3.67, spot: 1.1 },
  'a2-highgpu-2g': { onDemand: 7.35, spot: 2.2 },
  'a2-highgpu-4g': { onDemand: 14.69, spot: 4.41 },
  'a2-highgpu-8g': { onDemand: 29.39, spot: 8.82 },
  'a2-megagpu-16g': { onDemand: 55.74, spot: 16.72 },
  'a2-ultragpu-1g': { onDemand: 5.07, spot: 1.57 },
  'a2-ultragpu-2g': { onDemand: 10.14, spot: 3.14 },
  'a2-ultragpu-4g': { onDemand: 20.28, spot: 6.28 },
  'a2-ultragpu-8g': { onDemand: 40.55, spot: 12.56 },
  // A3: H100 80 GB.
  'a3-highgpu-1g': { onDemand: 11.06, spot: 3.31 },
  'a3-highgpu-2g': { onDemand: 22.12, spot: 6.62 },
  'a3-highgpu-4g': { onDemand: 44.25, spot: 13.24 },
  'a3-highgpu-8g': { onDemand: 88.49, spot: 26.48 },
  'a3-megagpu-8g': { onDemand: 92.11, spot: 27.58 },
  // G2: L4 24 GB.
  'g2-standard-4': { onDemand: 0.7068, spot: 0.2827 },
  'g2-standard-8': { onDemand: 0.8536, spot: 0.3414 },
  'g2-standard-12': { onDemand: 1.0005, spot: 0.4002 },
  'g2-standard-16': { onDemand: 1.1474, spot: 0.4589 },
  'g2-standard-24': { onDemand: 2.001, spot: 0.8004 },
  'g2-standard-32': { onDemand: 1.734, spot: 0.6936 },
  'g2-standard-48': { onDemand: 4.002, spot: 1.6008 },
  'g2-standard-96': { onDemand: 8.004, spot: 3.2016 },
};

/** Per vCPU-hour and per GB-hour of memory, us-central1. */
export interface ComponentPrice {
  vcpu: MachinePrice;
  memoryGb: MachinePrice;
}

export const CPU_FAMILY_PRICES: Record<string, ComponentPrice> = {
  n2: { vcpu: { onDemand: 0.031611, spot: 0.007654 }, memoryGb: { onDemand: 0.004237, spot: 0.001026 } },
  n2d: { vcpu: { onDemand: 0.027502, spot: 0.006655 }, memoryGb: { onDemand: 0.003686, spot: 0.000892 } },
  c2d: { vcpu: { onDemand: 0.029563, spot: 0.007155 }, memoryGb: { onDemand: 0.003959, spot: 0.000958 } },
  c3: { vcpu: { onDemand: 0.03398, spot: 0.008226 }, memoryGb: { onDemand: 0.00455, spot: 0.001101 } },
  e2: { vcpu: { onDemand: 0.021811, spot: 0.006543 }, memoryGb: { onDemand: 0.002923, spot: 0.000877 } },
};

/** GB of memory per vCPU of each CPU family's predefined shapes (`<family>-<shape>-<vcpus>`). */
export const MEMORY_PER_VCPU: Record<string, Record<string, number>> = {
  n2: { standard: 4, highmem: 8, highcpu: 1 },
  n2d: { standard: 4, highmem: 8, highcpu: 1 },
  c2d: { standard: 4, highmem: 8, highcpu: 2 },
  c3: { standard: 4, highmem: 8, highcpu: 2 },
  e2: { standard: 4, highmem: 8, highcpu: 1 },
};

/**
 * Each region's prices as a multiple of us-central1's, as the pricing pages list them for these
 * families (GPU machines and CPU components move together within a region, to within a few percent).
 */
export const REGION_FACTORS: Record<string, number> = {
  'us-central1': 1,
  'us-east1': 1,
  'us-east4': 1.126,
  'us-west1': 1,
  'us-west4': 1.05,
  'europe-west4': 1.1,
  'asia-northeast1': 1.29,
  'asia-southeast1': 1.22,
};
