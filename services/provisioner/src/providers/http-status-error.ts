/** A non-2xx answer, shaped like gaxios's GaxiosError where kumo reads it (`status`, `response.data`). */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly response: { status: number; data: string };

  constructor(status: number, data: string) {
    super(`HTTP ${status}`);
    this.name = 'HttpStatusError';
    this.status = status;
    this.response = { status, data };
  }
}
