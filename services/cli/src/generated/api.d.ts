/**
 * Generated from the API's GET /openapi.json by openapi-typescript (services/cli/scripts/gen-api.ts).
 * Do not edit: change the server's zod schemas, then run `npm run gen:api`. test/cli/openapi-drift.test.ts
 * fails while this file and the server disagree.
 */

export interface paths {
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List jobs, newest first, with cursor paging
         * @description A filtered page looks at 2000 jobs at most: it may hold fewer than limit jobs (even none) and still have a nextCursor; follow nextCursor until it is null.
         */
        get: {
            parameters: {
                query?: {
                    state?: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                    kind?: "extraction" | "cleaning" | "training" | "evaluation";
                    pool?: string;
                    user?: string;
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /**
         * Submit a job (JSON, or YAML with Content-Type: application/yaml)
         * @description A job is a record and a range of tasks; submission is O(1) in the task count. Example: {"kind":"extraction","name":"cc-main-2023-50-ja","source":{"snapshot":"CC-MAIN-2023-50","batches":90000},"pool":"local","run":{"builtin":"noop"}}. A user past their quota of live jobs or of listing bytes held (KUMO_QUOTA_LIVE_JOBS, KUMO_QUOTA_LISTING_BYTES; admins are exempt) gets 429 QUOTA_EXCEEDED. An extraction's source.listing (an https:// URL, gs:// object or allowed local file listing WARC paths, gzip or plain) is read here: the job gets source.batches = the lines used and source.listingSha256; a listing refused is a 400 LISTING_NOT_ALLOWED, LISTING_INVALID or LISTING_UNREADABLE.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        kind: "extraction";
                        name: string;
                        /** @default local */
                        pool?: string;
                        run: {
                            /** @enum {string} */
                            builtin: "noop";
                        } | {
                            /** @enum {string} */
                            builtin: "sleep";
                            ms: number;
                        } | {
                            command: string[];
                            cwd?: string;
                        } | {
                            image: string;
                            command?: string[];
                        };
                        /** @default 50 */
                        priority?: number;
                        /** @default {} */
                        retry?: {
                            maxAttempts?: number;
                            backoffSeconds?: number;
                            maxInfraRetries?: number;
                            quarantineAfterWorkers?: number;
                        };
                        timeoutSeconds?: number;
                        /**
                         * @default {
                         *       "maxFailedTasks": 0
                         *     }
                         */
                        failurePolicy?: {
                            /** @default 0 */
                            maxFailedTasks?: number;
                        };
                        /** @default {} */
                        env?: {
                            [key: string]: string;
                        };
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        user?: string;
                        dependsOn?: string[];
                        canary?: {
                            tasks: number;
                        };
                        budget?: {
                            maxCostUsd: number;
                        };
                        skip?: {
                            ranges?: [
                                number,
                                number
                            ][];
                            succeededIn?: string[];
                        };
                        source: {
                            snapshot: string;
                            batches?: number;
                            paths?: string[];
                            listing?: string;
                            listingSha256?: string;
                        };
                        /** @default 1 */
                        batchSize?: number;
                        output?: {
                            prefix: string;
                        };
                    } | {
                        /** @enum {string} */
                        kind: "cleaning";
                        name: string;
                        /** @default local */
                        pool?: string;
                        run: {
                            /** @enum {string} */
                            builtin: "noop";
                        } | {
                            /** @enum {string} */
                            builtin: "sleep";
                            ms: number;
                        } | {
                            command: string[];
                            cwd?: string;
                        } | {
                            image: string;
                            command?: string[];
                        };
                        /** @default 50 */
                        priority?: number;
                        /** @default {} */
                        retry?: {
                            maxAttempts?: number;
                            backoffSeconds?: number;
                            maxInfraRetries?: number;
                            quarantineAfterWorkers?: number;
                        };
                        timeoutSeconds?: number;
                        /**
                         * @default {
                         *       "maxFailedTasks": 0
                         *     }
                         */
                        failurePolicy?: {
                            /** @default 0 */
                            maxFailedTasks?: number;
                        };
                        /** @default {} */
                        env?: {
                            [key: string]: string;
                        };
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        user?: string;
                        dependsOn?: string[];
                        canary?: {
                            tasks: number;
                        };
                        budget?: {
                            maxCostUsd: number;
                        };
                        skip?: {
                            ranges?: [
                                number,
                                number
                            ][];
                            succeededIn?: string[];
                        };
                        input: {
                            shards?: string[];
                            prefix?: string;
                            count?: number;
                        };
                        pipeline?: {
                            name: string;
                            /** @default [] */
                            steps?: {
                                name: string;
                                /** @default {} */
                                params?: {
                                    [key: string]: unknown;
                                };
                            }[];
                        };
                        output?: {
                            prefix: string;
                        };
                    } | {
                        /** @enum {string} */
                        kind: "training";
                        name: string;
                        /** @default local */
                        pool?: string;
                        run: {
                            /** @enum {string} */
                            builtin: "noop";
                        } | {
                            /** @enum {string} */
                            builtin: "sleep";
                            ms: number;
                        } | {
                            command: string[];
                            cwd?: string;
                        } | {
                            image: string;
                            command?: string[];
                        };
                        /** @default 50 */
                        priority?: number;
                        /** @default {} */
                        retry?: {
                            maxAttempts?: number;
                            backoffSeconds?: number;
                            maxInfraRetries?: number;
                            quarantineAfterWorkers?: number;
                        };
                        timeoutSeconds?: number;
                        /**
                         * @default {
                         *       "maxFailedTasks": 0
                         *     }
                         */
                        failurePolicy?: {
                            /** @default 0 */
                            maxFailedTasks?: number;
                        };
                        /** @default {} */
                        env?: {
                            [key: string]: string;
                        };
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        user?: string;
                        dependsOn?: string[];
                        canary?: {
                            tasks: number;
                        };
                        budget?: {
                            maxCostUsd: number;
                        };
                        skip?: {
                            ranges?: [
                                number,
                                number
                            ][];
                            succeededIn?: string[];
                        };
                        model: {
                            name: string;
                            parameters?: string;
                        };
                        target: {
                            steps: number;
                            tokens?: number;
                        };
                        /** @default {} */
                        checkpoint?: {
                            uri?: string;
                            everySteps?: number;
                        };
                        evaluate?: {
                            benchmarks: string[];
                            run: {
                                /** @enum {string} */
                                builtin: "noop";
                            } | {
                                /** @enum {string} */
                                builtin: "sleep";
                                ms: number;
                            } | {
                                command: string[];
                                cwd?: string;
                            } | {
                                image: string;
                                command?: string[];
                            };
                            pool?: string;
                            everySteps?: number;
                            env?: {
                                [key: string]: string;
                            };
                        };
                        nodes?: number;
                        rendezvous?: {
                            port?: number;
                            timeoutSeconds?: number;
                        };
                    } | {
                        /** @enum {string} */
                        kind: "evaluation";
                        name: string;
                        /** @default local */
                        pool?: string;
                        run: {
                            /** @enum {string} */
                            builtin: "noop";
                        } | {
                            /** @enum {string} */
                            builtin: "sleep";
                            ms: number;
                        } | {
                            command: string[];
                            cwd?: string;
                        } | {
                            image: string;
                            command?: string[];
                        };
                        /** @default 50 */
                        priority?: number;
                        /** @default {} */
                        retry?: {
                            maxAttempts?: number;
                            backoffSeconds?: number;
                            maxInfraRetries?: number;
                            quarantineAfterWorkers?: number;
                        };
                        timeoutSeconds?: number;
                        /**
                         * @default {
                         *       "maxFailedTasks": 0
                         *     }
                         */
                        failurePolicy?: {
                            /** @default 0 */
                            maxFailedTasks?: number;
                        };
                        /** @default {} */
                        env?: {
                            [key: string]: string;
                        };
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        user?: string;
                        dependsOn?: string[];
                        canary?: {
                            tasks: number;
                        };
                        budget?: {
                            maxCostUsd: number;
                        };
                        skip?: {
                            ranges?: [
                                number,
                                number
                            ][];
                            succeededIn?: string[];
                        };
                        checkpoints: string[];
                        benchmarks: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A job with its state and progress */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Delete an ended job: its record, task ledger, results, contributors, listing and task logs
         * @description Its owner or an admin; 204 when deleted, then the id is 404 everywhere and its Idempotency-Key is free again. 409 JOB_NOT_ENDED while the job is live (cancel it first), 409 JOB_STOPPING (retryable) while a cancelled job's tasks are still being stopped, 409 JOB_HAS_DEPENDENTS while a live job waits on it (dependsOn) and has not started yet. What it spent stays in the users' and the month's spend, and /metrics totals still count it.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change a job’s budget; a job paused at its budget resumes when the new one leaves room */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        budget: {
                            maxCostUsd: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/jobs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel: running tasks are stopped, nothing new starts */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause: nothing new starts; tasks already running finish */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume a paused job */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Failed tasks of a job (final failures, or every task whose last attempt failed), with errors and log tails */
        get: {
            parameters: {
                query?: {
                    state?: "failed" | "erroring";
                    limit?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/results": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The task ledger: what each task reported with ::kumo::result lines (counts, outputs, scores), by index; page with afterIndex
         * @description Pass nextAfterIndex back as afterIndex until it is null. A page looks up 20000 task indices at most, so in a sparse ledger it may hold fewer than limit results (even none) and still have a nextAfterIndex.
         */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    afterIndex?: number;
                };
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/evaluations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A training job's checkpoints as evaluated so far (its evaluate block): per step, the evaluation job and each benchmark's score
         * @description A score is the number a task reported as `score` in its ::kumo::result line; null until that task has one.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            evaluations: {
                                step: number;
                                jobId: string;
                                state: string;
                                checkpoint: string;
                                scores: {
                                    [key: string]: number | null;
                                };
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/rerun": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rerun an ended job's failed or unfinished tasks as a new job
         * @description The job must have ended (409 JOB_NOT_ENDED while it is live); its owner or an admin may rerun it. 201 with a new job whose `rerunOf` is this one and whose tasks are exactly the chosen ones, each with its own index (KUMO_TASK_INDEX) and inputs (KUMO_TASK_INPUTS; a listing job's lines are kept 30 days after it ended); `progress.total` is their count. 400 NOTHING_TO_RERUN when there is none. `patch` may change run, env, retry, timeoutSeconds, pool and priority.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        tasks: "failed" | "unfinished";
                        patch?: {
                            run?: {
                                /** @enum {string} */
                                builtin: "noop";
                            } | {
                                /** @enum {string} */
                                builtin: "sleep";
                                ms: number;
                            } | {
                                command: string[];
                                cwd?: string;
                            } | {
                                image: string;
                                command?: string[];
                            };
                            env?: {
                                [key: string]: string;
                            };
                            retry?: {
                                maxAttempts?: number;
                                backoffSeconds?: number;
                                maxInfraRetries?: number;
                                quarantineAfterWorkers?: number;
                            };
                            timeoutSeconds?: number;
                            pool?: string;
                            priority?: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            kind: "extraction" | "cleaning" | "training" | "evaluation";
                            name: string;
                            pool: string;
                            user: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "paused" | "budget_exhausted" | "succeeded" | "failed" | "cancelled";
                            priority: number;
                            reason?: string;
                            createdAt: string;
                            startedAt?: string;
                            finishedAt?: string;
                            spec: {
                                [key: string]: unknown;
                            };
                            progress: {
                                total: number;
                                queued: number;
                                running: number;
                                succeeded: number;
                                failed: number;
                                skipped: number;
                                unit: string;
                                percent: number;
                                ratePerMinute: number;
                                etaSeconds: number | null;
                                estimatedCompletionAt: string | null;
                                costUsd: number;
                                forecastCostUsd: number | null;
                            };
                            costUsd: number;
                            forecastCostUsd: number | null;
                            budget: {
                                maxCostUsd: number;
                            } | null;
                            handBacks: number;
                            checkpoint: {
                                [key: string]: unknown;
                            } | null;
                            liveProgress: {
                                [key: string]: unknown;
                            } | null;
                            rerunOf?: string;
                            dependsOn?: string[];
                            waitingOn?: string;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/contributors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Who did a job's tasks: per worker, its owner, tasks succeeded and failed, and run time
         * @description `owner` is the worker token's name for an HTTPS worker, the pool for kumo's own. The sums of succeeded and failed equal the job's progress counts exactly.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            contributors: {
                                worker: string;
                                owner: string;
                                succeeded: number;
                                failed: number;
                                taskSeconds: number;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/contributors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The team's contributors table across jobs, by pool and since a time
         * @description Counted per pool and UTC day, each day kept 35 days: `since` (ISO 8601, default 7 days ago) reaches back that far at most, counting whole days. Without `pool`, every pool.
         */
        get: {
            parameters: {
                query?: {
                    pool?: string;
                    since?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            contributors: {
                                worker: string;
                                owner: string;
                                succeeded: number;
                                failed: number;
                                taskSeconds: number;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Live progress as text/event-stream */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pools": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Worker pools, their settings, VMs, workers and the autoscaler’s last reasons */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pools/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One pool */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            machineType: string;
                            zones: string[];
                            min: number;
                            max: number;
                            status: unknown;
                            vms: unknown[];
                            workers: unknown[];
                        } & {
                            [key: string]: unknown;
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        /**
         * Create or replace a pool’s settings
         * @description Example: {"machineType":"a2-highgpu-1g","gpu":{"type":"nvidia-tesla-a100","count":1},"spot":true,"zones":["us-central1-a","us-central1-b"],"min":0,"max":64}
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default a2-highgpu-1g */
                        machineType?: string;
                        /**
                         * @default {
                         *       "type": "nvidia-tesla-a100",
                         *       "count": 1
                         *     }
                         */
                        gpu?: {
                            type: string;
                            count: number;
                        };
                        /** @default true */
                        spot?: boolean;
                        zones: string[];
                        subnetworks?: {
                            [key: string]: string;
                        };
                        /** @enum {string} */
                        placement?: "compact";
                        reservation?: string;
                        /** @enum {string} */
                        provisioning?: "flex-start";
                        maxRunDurationSeconds?: number;
                        /** @default 0 */
                        min?: number;
                        max: number;
                        /** @default 1 */
                        slotsPerVm?: number;
                        /** @default 300 */
                        idleTimeoutSeconds?: number;
                        /** @default 8 */
                        scaleUpBatch?: number;
                        /** @default 8 */
                        scaleDownBatch?: number;
                        image?: string;
                        /** @default {} */
                        labels?: {
                            [key: string]: string;
                        };
                        prices?: {
                            spotPerHourUsd?: number;
                            onDemandPerHourUsd?: number;
                        };
                        /** @default false */
                        fallbackToStandard?: boolean;
                        maxHourlyUsd?: number;
                        preemption?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            machineType: string;
                            zones: string[];
                            min: number;
                            max: number;
                            status: unknown;
                            vms: unknown[];
                            workers: unknown[];
                        } & {
                            [key: string]: unknown;
                        };
                    };
                };
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            machineType: string;
                            zones: string[];
                            min: number;
                            max: number;
                            status: unknown;
                            vms: unknown[];
                            workers: unknown[];
                        } & {
                            [key: string]: unknown;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mint a token; the secret is in this answer only */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        role: "admin" | "submitter" | "viewer" | "worker";
                        name: string;
                        pool?: string;
                        ttlSeconds?: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            token: string;
                            role: string;
                            name: string;
                            pool: string | null;
                            expiresAt: string | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a token */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description revoked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user’s share of the pools (weight, maxSlots by pool) and their budget */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            weight: number;
                            maxSlots: {
                                [key: string]: number;
                            };
                            budget: {
                                name: string;
                                costUsd: number;
                                maxCostUsd: number | null;
                                /** @enum {string} */
                                period: "all" | "month";
                                month: string;
                                monthCostUsd: number;
                            };
                        };
                    };
                };
            };
        };
        /** Set a user’s share: weight (their part of a pool against users of the same priority) and maxSlots by pool */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @default 1 */
                        weight?: number;
                        /** @default {} */
                        maxSlots?: {
                            [key: string]: number;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            weight: number;
                            maxSlots: {
                                [key: string]: number;
                            };
                            budget: {
                                name: string;
                                costUsd: number;
                                maxCostUsd: number | null;
                                /** @enum {string} */
                                period: "all" | "month";
                                month: string;
                                monthCostUsd: number;
                            };
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/users/{name}/budget": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user’s spend across their jobs, and their budget */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            costUsd: number;
                            maxCostUsd: number | null;
                            /** @enum {string} */
                            period: "all" | "month";
                            month: string;
                            monthCostUsd: number;
                        };
                    };
                };
            };
        };
        /** Set a user’s budget (maxCostUsd across all their jobs, ever or each month); null removes it */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    name: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        maxCostUsd: number | null;
                        /**
                         * @default all
                         * @enum {string}
                         */
                        period?: "all" | "month";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            name: string;
                            costUsd: number;
                            maxCostUsd: number | null;
                            /** @enum {string} */
                            period: "all" | "month";
                            month: string;
                            monthCostUsd: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/spend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A month’s spend by user, pool or job */
        get: {
            parameters: {
                query?: {
                    by?: "user" | "pool" | "job";
                    month?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            month: string;
                            /** @enum {string} */
                            by: "user" | "pool" | "job";
                            rows: {
                                name: string;
                                costUsd: number;
                            }[];
                            totalUsd: number;
                            teamMaxCostUsd: number | null;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/spend.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The same spend report as CSV (month,<by>,costUsd) */
        get: {
            parameters: {
                query?: {
                    by?: "user" | "pool" | "job";
                    month?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/team/budget": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The team’s monthly budget over everyone, and the month’s spend */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            maxCostUsd: number | null;
                            month: string;
                            monthCostUsd: number;
                        };
                    };
                };
            };
        };
        /** Set the team’s monthly budget (maxCostUsd over everyone’s jobs); null removes it */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        maxCostUsd: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            maxCostUsd: number | null;
                            month: string;
                            monthCostUsd: number;
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/simulations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rehearse a job on a simulated pool (real scheduler and autoscaler, virtual time)
         * @description See examples/simulate-cc-main-2023-50.json. Answers 202 with an id; poll GET /v1/simulations/:id.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        job: {
                            /** @enum {string} */
                            kind: "extraction";
                            name: string;
                            /** @default local */
                            pool?: string;
                            run: {
                                /** @enum {string} */
                                builtin: "noop";
                            } | {
                                /** @enum {string} */
                                builtin: "sleep";
                                ms: number;
                            } | {
                                command: string[];
                                cwd?: string;
                            } | {
                                image: string;
                                command?: string[];
                            };
                            /** @default 50 */
                            priority?: number;
                            /** @default {} */
                            retry?: {
                                maxAttempts?: number;
                                backoffSeconds?: number;
                                maxInfraRetries?: number;
                                quarantineAfterWorkers?: number;
                            };
                            timeoutSeconds?: number;
                            /**
                             * @default {
                             *       "maxFailedTasks": 0
                             *     }
                             */
                            failurePolicy?: {
                                /** @default 0 */
                                maxFailedTasks?: number;
                            };
                            /** @default {} */
                            env?: {
                                [key: string]: string;
                            };
                            /** @default {} */
                            labels?: {
                                [key: string]: string;
                            };
                            user?: string;
                            dependsOn?: string[];
                            canary?: {
                                tasks: number;
                            };
                            budget?: {
                                maxCostUsd: number;
                            };
                            skip?: {
                                ranges?: [
                                    number,
                                    number
                                ][];
                                succeededIn?: string[];
                            };
                            source: {
                                snapshot: string;
                                batches?: number;
                                paths?: string[];
                                listing?: string;
                                listingSha256?: string;
                            };
                            /** @default 1 */
                            batchSize?: number;
                            output?: {
                                prefix: string;
                            };
                        } | {
                            /** @enum {string} */
                            kind: "cleaning";
                            name: string;
                            /** @default local */
                            pool?: string;
                            run: {
                                /** @enum {string} */
                                builtin: "noop";
                            } | {
                                /** @enum {string} */
                                builtin: "sleep";
                                ms: number;
                            } | {
                                command: string[];
                                cwd?: string;
                            } | {
                                image: string;
                                command?: string[];
                            };
                            /** @default 50 */
                            priority?: number;
                            /** @default {} */
                            retry?: {
                                maxAttempts?: number;
                                backoffSeconds?: number;
                                maxInfraRetries?: number;
                                quarantineAfterWorkers?: number;
                            };
                            timeoutSeconds?: number;
                            /**
                             * @default {
                             *       "maxFailedTasks": 0
                             *     }
                             */
                            failurePolicy?: {
                                /** @default 0 */
                                maxFailedTasks?: number;
                            };
                            /** @default {} */
                            env?: {
                                [key: string]: string;
                            };
                            /** @default {} */
                            labels?: {
                                [key: string]: string;
                            };
                            user?: string;
                            dependsOn?: string[];
                            canary?: {
                                tasks: number;
                            };
                            budget?: {
                                maxCostUsd: number;
                            };
                            skip?: {
                                ranges?: [
                                    number,
                                    number
                                ][];
                                succeededIn?: string[];
                            };
                            input: {
                                shards?: string[];
                                prefix?: string;
                                count?: number;
                            };
                            pipeline?: {
                                name: string;
                                /** @default [] */
                                steps?: {
                                    name: string;
                                    /** @default {} */
                                    params?: {
                                        [key: string]: unknown;
                                    };
                                }[];
                            };
                            output?: {
                                prefix: string;
                            };
                        } | {
                            /** @enum {string} */
                            kind: "training";
                            name: string;
                            /** @default local */
                            pool?: string;
                            run: {
                                /** @enum {string} */
                                builtin: "noop";
                            } | {
                                /** @enum {string} */
                                builtin: "sleep";
                                ms: number;
                            } | {
                                command: string[];
                                cwd?: string;
                            } | {
                                image: string;
                                command?: string[];
                            };
                            /** @default 50 */
                            priority?: number;
                            /** @default {} */
                            retry?: {
                                maxAttempts?: number;
                                backoffSeconds?: number;
                                maxInfraRetries?: number;
                                quarantineAfterWorkers?: number;
                            };
                            timeoutSeconds?: number;
                            /**
                             * @default {
                             *       "maxFailedTasks": 0
                             *     }
                             */
                            failurePolicy?: {
                                /** @default 0 */
                                maxFailedTasks?: number;
                            };
                            /** @default {} */
                            env?: {
                                [key: string]: string;
                            };
                            /** @default {} */
                            labels?: {
                                [key: string]: string;
                            };
                            user?: string;
                            dependsOn?: string[];
                            canary?: {
                                tasks: number;
                            };
                            budget?: {
                                maxCostUsd: number;
                            };
                            skip?: {
                                ranges?: [
                                    number,
                                    number
                                ][];
                                succeededIn?: string[];
                            };
                            model: {
                                name: string;
                                parameters?: string;
                            };
                            target: {
                                steps: number;
                                tokens?: number;
                            };
                            /** @default {} */
                            checkpoint?: {
                                uri?: string;
                                everySteps?: number;
                            };
                            evaluate?: {
                                benchmarks: string[];
                                run: {
                                    /** @enum {string} */
                                    builtin: "noop";
                                } | {
                                    /** @enum {string} */
                                    builtin: "sleep";
                                    ms: number;
                                } | {
                                    command: string[];
                                    cwd?: string;
                                } | {
                                    image: string;
                                    command?: string[];
                                };
                                pool?: string;
                                everySteps?: number;
                                env?: {
                                    [key: string]: string;
                                };
                            };
                            nodes?: number;
                            rendezvous?: {
                                port?: number;
                                timeoutSeconds?: number;
                            };
                        } | {
                            /** @enum {string} */
                            kind: "evaluation";
                            name: string;
                            /** @default local */
                            pool?: string;
                            run: {
                                /** @enum {string} */
                                builtin: "noop";
                            } | {
                                /** @enum {string} */
                                builtin: "sleep";
                                ms: number;
                            } | {
                                command: string[];
                                cwd?: string;
                            } | {
                                image: string;
                                command?: string[];
                            };
                            /** @default 50 */
                            priority?: number;
                            /** @default {} */
                            retry?: {
                                maxAttempts?: number;
                                backoffSeconds?: number;
                                maxInfraRetries?: number;
                                quarantineAfterWorkers?: number;
                            };
                            timeoutSeconds?: number;
                            /**
                             * @default {
                             *       "maxFailedTasks": 0
                             *     }
                             */
                            failurePolicy?: {
                                /** @default 0 */
                                maxFailedTasks?: number;
                            };
                            /** @default {} */
                            env?: {
                                [key: string]: string;
                            };
                            /** @default {} */
                            labels?: {
                                [key: string]: string;
                            };
                            user?: string;
                            dependsOn?: string[];
                            canary?: {
                                tasks: number;
                            };
                            budget?: {
                                maxCostUsd: number;
                            };
                            skip?: {
                                ranges?: [
                                    number,
                                    number
                                ][];
                                succeededIn?: string[];
                            };
                            checkpoints: string[];
                            benchmarks: string[];
                        };
                        pool: {
                            /** @default a2-highgpu-1g */
                            machineType?: string;
                            /**
                             * @default {
                             *       "type": "nvidia-tesla-a100",
                             *       "count": 1
                             *     }
                             */
                            gpu?: {
                                type: string;
                                count: number;
                            };
                            /** @default true */
                            spot?: boolean;
                            zones: string[];
                            subnetworks?: {
                                [key: string]: string;
                            };
                            /** @enum {string} */
                            placement?: "compact";
                            reservation?: string;
                            /** @enum {string} */
                            provisioning?: "flex-start";
                            maxRunDurationSeconds?: number;
                            /** @default 0 */
                            min?: number;
                            max: number;
                            /** @default 1 */
                            slotsPerVm?: number;
                            /** @default 300 */
                            idleTimeoutSeconds?: number;
                            /** @default 8 */
                            scaleUpBatch?: number;
                            /** @default 8 */
                            scaleDownBatch?: number;
                            image?: string;
                            /** @default {} */
                            labels?: {
                                [key: string]: string;
                            };
                            prices?: {
                                spotPerHourUsd?: number;
                                onDemandPerHourUsd?: number;
                            };
                            /** @default false */
                            fallbackToStandard?: boolean;
                            maxHourlyUsd?: number;
                            preemption?: boolean;
                        };
                        /**
                         * @default {
                         *       "mean": 240,
                         *       "jitter": 0.2,
                         *       "distribution": "uniform"
                         *     }
                         */
                        taskSeconds?: {
                            mean: number;
                            /** @default 0.2 */
                            jitter?: number;
                            /**
                             * @default uniform
                             * @enum {string}
                             */
                            distribution?: "uniform" | "normal";
                        };
                        /** @default 90 */
                        bootSeconds?: number;
                        /** @default 0.05 */
                        preemptionsPerVmHour?: number;
                        /** @default 0 */
                        taskFailureRate?: number;
                        /** @default [] */
                        stockouts?: {
                            zone?: string;
                            region?: string;
                            fromSeconds: number;
                            toSeconds: number;
                        }[];
                        /** @default 1 */
                        seed?: number;
                        /** @default 10 */
                        resolutionSeconds?: number;
                        /** @default 60 */
                        scaleIntervalSeconds?: number;
                        /** @default 600 */
                        sampleEverySeconds?: number;
                        /** @default 2160 */
                        maxSimulatedHours?: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "done" | "failed";
                            report?: {
                                [key: string]: unknown;
                            };
                            error?: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/simulations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A simulation: state, and the report once done */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "done" | "failed";
                            report?: {
                                [key: string]: unknown;
                            };
                            error?: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pipelines": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Submit a pipeline: one job per stage, each starting when the stages it comes after succeeded */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                        stages: {
                            name: string;
                            /** @default [] */
                            after?: string[];
                            job: {
                                /** @enum {string} */
                                kind: "extraction";
                                name: string;
                                /** @default local */
                                pool?: string;
                                run: {
                                    /** @enum {string} */
                                    builtin: "noop";
                                } | {
                                    /** @enum {string} */
                                    builtin: "sleep";
                                    ms: number;
                                } | {
                                    command: string[];
                                    cwd?: string;
                                } | {
                                    image: string;
                                    command?: string[];
                                };
                                /** @default 50 */
                                priority?: number;
                                /** @default {} */
                                retry?: {
                                    maxAttempts?: number;
                                    backoffSeconds?: number;
                                    maxInfraRetries?: number;
                                    quarantineAfterWorkers?: number;
                                };
                                timeoutSeconds?: number;
                                /**
                                 * @default {
                                 *       "maxFailedTasks": 0
                                 *     }
                                 */
                                failurePolicy?: {
                                    /** @default 0 */
                                    maxFailedTasks?: number;
                                };
                                /** @default {} */
                                env?: {
                                    [key: string]: string;
                                };
                                /** @default {} */
                                labels?: {
                                    [key: string]: string;
                                };
                                user?: string;
                                dependsOn?: string[];
                                canary?: {
                                    tasks: number;
                                };
                                budget?: {
                                    maxCostUsd: number;
                                };
                                skip?: {
                                    ranges?: [
                                        number,
                                        number
                                    ][];
                                    succeededIn?: string[];
                                };
                                source: {
                                    snapshot: string;
                                    batches?: number;
                                    paths?: string[];
                                    listing?: string;
                                    listingSha256?: string;
                                };
                                /** @default 1 */
                                batchSize?: number;
                                output?: {
                                    prefix: string;
                                };
                            } | {
                                /** @enum {string} */
                                kind: "cleaning";
                                name: string;
                                /** @default local */
                                pool?: string;
                                run: {
                                    /** @enum {string} */
                                    builtin: "noop";
                                } | {
                                    /** @enum {string} */
                                    builtin: "sleep";
                                    ms: number;
                                } | {
                                    command: string[];
                                    cwd?: string;
                                } | {
                                    image: string;
                                    command?: string[];
                                };
                                /** @default 50 */
                                priority?: number;
                                /** @default {} */
                                retry?: {
                                    maxAttempts?: number;
                                    backoffSeconds?: number;
                                    maxInfraRetries?: number;
                                    quarantineAfterWorkers?: number;
                                };
                                timeoutSeconds?: number;
                                /**
                                 * @default {
                                 *       "maxFailedTasks": 0
                                 *     }
                                 */
                                failurePolicy?: {
                                    /** @default 0 */
                                    maxFailedTasks?: number;
                                };
                                /** @default {} */
                                env?: {
                                    [key: string]: string;
                                };
                                /** @default {} */
                                labels?: {
                                    [key: string]: string;
                                };
                                user?: string;
                                dependsOn?: string[];
                                canary?: {
                                    tasks: number;
                                };
                                budget?: {
                                    maxCostUsd: number;
                                };
                                skip?: {
                                    ranges?: [
                                        number,
                                        number
                                    ][];
                                    succeededIn?: string[];
                                };
                                input: {
                                    shards?: string[];
                                    prefix?: string;
                                    count?: number;
                                };
                                pipeline?: {
                                    name: string;
                                    /** @default [] */
                                    steps?: {
                                        name: string;
                                        /** @default {} */
                                        params?: {
                                            [key: string]: unknown;
                                        };
                                    }[];
                                };
                                output?: {
                                    prefix: string;
                                };
                            } | {
                                /** @enum {string} */
                                kind: "training";
                                name: string;
                                /** @default local */
                                pool?: string;
                                run: {
                                    /** @enum {string} */
                                    builtin: "noop";
                                } | {
                                    /** @enum {string} */
                                    builtin: "sleep";
                                    ms: number;
                                } | {
                                    command: string[];
                                    cwd?: string;
                                } | {
                                    image: string;
                                    command?: string[];
                                };
                                /** @default 50 */
                                priority?: number;
                                /** @default {} */
                                retry?: {
                                    maxAttempts?: number;
                                    backoffSeconds?: number;
                                    maxInfraRetries?: number;
                                    quarantineAfterWorkers?: number;
                                };
                                timeoutSeconds?: number;
                                /**
                                 * @default {
                                 *       "maxFailedTasks": 0
                                 *     }
                                 */
                                failurePolicy?: {
                                    /** @default 0 */
                                    maxFailedTasks?: number;
                                };
                                /** @default {} */
                                env?: {
                                    [key: string]: string;
                                };
                                /** @default {} */
                                labels?: {
                                    [key: string]: string;
                                };
                                user?: string;
                                dependsOn?: string[];
                                canary?: {
                                    tasks: number;
                                };
                                budget?: {
                                    maxCostUsd: number;
                                };
                                skip?: {
                                    ranges?: [
                                        number,
                                        number
                                    ][];
                                    succeededIn?: string[];
                                };
                                model: {
                                    name: string;
                                    parameters?: string;
                                };
                                target: {
                                    steps: number;
                                    tokens?: number;
                                };
                                /** @default {} */
                                checkpoint?: {
                                    uri?: string;
                                    everySteps?: number;
                                };
                                evaluate?: {
                                    benchmarks: string[];
                                    run: {
                                        /** @enum {string} */
                                        builtin: "noop";
                                    } | {
                                        /** @enum {string} */
                                        builtin: "sleep";
                                        ms: number;
                                    } | {
                                        command: string[];
                                        cwd?: string;
                                    } | {
                                        image: string;
                                        command?: string[];
                                    };
                                    pool?: string;
                                    everySteps?: number;
                                    env?: {
                                        [key: string]: string;
                                    };
                                };
                                nodes?: number;
                                rendezvous?: {
                                    port?: number;
                                    timeoutSeconds?: number;
                                };
                            } | {
                                /** @enum {string} */
                                kind: "evaluation";
                                name: string;
                                /** @default local */
                                pool?: string;
                                run: {
                                    /** @enum {string} */
                                    builtin: "noop";
                                } | {
                                    /** @enum {string} */
                                    builtin: "sleep";
                                    ms: number;
                                } | {
                                    command: string[];
                                    cwd?: string;
                                } | {
                                    image: string;
                                    command?: string[];
                                };
                                /** @default 50 */
                                priority?: number;
                                /** @default {} */
                                retry?: {
                                    maxAttempts?: number;
                                    backoffSeconds?: number;
                                    maxInfraRetries?: number;
                                    quarantineAfterWorkers?: number;
                                };
                                timeoutSeconds?: number;
                                /**
                                 * @default {
                                 *       "maxFailedTasks": 0
                                 *     }
                                 */
                                failurePolicy?: {
                                    /** @default 0 */
                                    maxFailedTasks?: number;
                                };
                                /** @default {} */
                                env?: {
                                    [key: string]: string;
                                };
                                /** @default {} */
                                labels?: {
                                    [key: string]: string;
                                };
                                user?: string;
                                dependsOn?: string[];
                                canary?: {
                                    tasks: number;
                                };
                                budget?: {
                                    maxCostUsd: number;
                                };
                                skip?: {
                                    ranges?: [
                                        number,
                                        number
                                    ][];
                                    succeededIn?: string[];
                                };
                                checkpoints: string[];
                                benchmarks: string[];
                            };
                        }[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            user: string;
                            createdAt: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
                            stages: {
                                name: string;
                                after: string[];
                                jobId: string;
                                state: string;
                                reason: string | null;
                                progress: {
                                    [key: string]: unknown;
                                } | null;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pipelines/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A pipeline with the state and progress of each stage */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            user: string;
                            createdAt: string;
                            /** @enum {string} */
                            state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
                            stages: {
                                name: string;
                                after: string[];
                                jobId: string;
                                state: string;
                                reason: string | null;
                                progress: {
                                    [key: string]: unknown;
                                } | null;
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers/lease": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Lease up to `max` tasks of a pool; keep each alive with heartbeats, end it with complete */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        workerId: string;
                        pool: string;
                        /** @default 1 */
                        max?: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            tasks: {
                                [key: string]: unknown;
                            }[];
                            leaseSeconds: number;
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers/heartbeat": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Renew leases; answers which are held, which were lost, and which tasks to stop (their job ended) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        workerId: string;
                        leases: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers/progress": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A leased task’s checkpoint (training) or in-task progress */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: uuid */
                        leaseId: string;
                        checkpoint?: {
                            [key: string]: unknown;
                        };
                        progress?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End leases: succeeded (with the task’s result), failed (with its error and log tail), or released (handed back, no attempt used); one lease, or up to 64 answered each on its own */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        workerId: string;
                        completions: ({
                            /** Format: uuid */
                            leaseId: string;
                            /** @enum {string} */
                            outcome: "succeeded";
                            durationMs?: number;
                            result?: {
                                [key: string]: unknown;
                            };
                        } | {
                            /** Format: uuid */
                            leaseId: string;
                            /** @enum {string} */
                            outcome: "failed";
                            durationMs?: number;
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                            };
                            logTail?: string;
                        } | {
                            /** Format: uuid */
                            leaseId: string;
                            /** @enum {string} */
                            outcome: "released";
                            durationMs?: number;
                        })[];
                    } | ({
                        /** Format: uuid */
                        leaseId: string;
                        /** @enum {string} */
                        outcome: "succeeded";
                        durationMs?: number;
                        result?: {
                            [key: string]: unknown;
                        };
                    } | {
                        /** Format: uuid */
                        leaseId: string;
                        /** @enum {string} */
                        outcome: "failed";
                        durationMs?: number;
                        error: {
                            code: string;
                            message: string;
                            retryable: boolean;
                        };
                        logTail?: string;
                    } | {
                        /** Format: uuid */
                        leaseId: string;
                        /** @enum {string} */
                        outcome: "released";
                        durationMs?: number;
                    });
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            final: boolean;
                        } | {
                            results: ({
                                leaseId: string;
                                /** @enum {boolean} */
                                ok: true;
                                final: boolean;
                            } | {
                                leaseId: string;
                                error: {
                                    code: string;
                                    message: string;
                                    retryable: boolean;
                                    reason?: string;
                                };
                            })[];
                        };
                    };
                };
                /** @description Default Response */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
                /** @description Default Response */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                retryable: boolean;
                                issues?: {
                                    path: (string | number)[];
                                    message: string;
                                }[];
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/tasks/{index}/log": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A task's log (text/plain): everything its latest attempt printed, stdout and stderr in the order read; ?attempt=N for another; ?follow=true streams it until the task ends
         * @description Any task that ran, succeeded ones too. A log is capped per attempt (16 MiB by default): past it the head is dropped and a `[kumo: N bytes of this log were cut here ...]` line marks the cut. 404 TASK_NOT_RUN for a task (or attempt) that never ran; with follow, a task not started yet is waited for while its job lives.
         */
        get: {
            parameters: {
                query?: {
                    attempt?: number;
                    follow?: "0" | "1" | "true" | "false";
                };
                header?: never;
                path: {
                    id: string;
                    index: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/workers/leases/{leaseId}/log/{offset}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** An HTTPS worker writes one segment of a leased task's log (application/octet-stream) */
        put: {
            parameters: {
                query?: {
                    last?: "0" | "1" | "true" | "false";
                };
                header?: never;
                path: {
                    leaseId: string;
                    offset: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        post?: never;
        /** An HTTPS worker drops the oldest segment of a leased task's log (its cap: the tail kept) */
        delete: {
            parameters: {
                query?: {
                    last?: "0" | "1" | "true" | "false";
                };
                header?: never;
                path: {
                    leaseId: string;
                    offset: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
