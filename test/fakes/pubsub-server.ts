import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * A local Pub/Sub server that speaks the real gRPC protocol, from the protos shipped inside
 * `@google-cloud/pubsub`, so the official client runs against it unchanged (apiEndpoint + emulatorMode,
 * or PUBSUB_EMULATOR_HOST). It implements what the client uses: topics, subscriptions, Publish,
 * StreamingPull (with acks and modacks on the stream as well as by RPC), Acknowledge,
 * ModifyAckDeadline and Pull; ack deadlines and redelivery; dead-letter policies with delivery_attempt;
 * retry policies (exponential backoff between min and max).
 *
 * Where it is more lenient than the service: a stream's ack deadline may be 1..600 s (the service wants
 * 10..600), so tests can use short leases. Subscriptions' own ack deadline keeps the real 10..600.
 *
 * Fault injection, settable at any time on the server object: `duplicateEvery` (every Nth delivery is
 * also delivered a second time, a little later, possibly on another stream), `reorder` (delivery order
 * shuffled, and each message held back a random few ms), `failNextPublish(code)`.
 */

type Code = grpc.status;

interface TimestampProto {
  seconds: string;
  nanos: number;
}
interface DurationProto {
  seconds: string | number;
  nanos: number;
}
interface PubsubMessageProto {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  publishTime: TimestampProto | null;
  orderingKey: string;
}
interface TopicProto {
  name: string;
  labels: Record<string, string>;
  [field: string]: unknown;
}
interface SubscriptionProto {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  deadLetterPolicy: { deadLetterTopic: string; maxDeliveryAttempts: number } | null;
  retryPolicy: { minimumBackoff: DurationProto | null; maximumBackoff: DurationProto | null } | null;
  [field: string]: unknown;
}
interface ReceivedMessageProto {
  ackId: string;
  message: PubsubMessageProto;
  deliveryAttempt: number;
}
interface StreamingPullRequestProto {
  subscription: string;
  ackIds: string[];
  modifyDeadlineSeconds: number[];
  modifyDeadlineAckIds: string[];
  streamAckDeadlineSeconds: number;
  clientId: string;
  maxOutstandingMessages: string;
  maxOutstandingBytes: string;
}

interface MsgState {
  message: PubsubMessageProto;
  /** Deliveries so far (duplicates included), as Pub/Sub's delivery_attempt counts them. */
  attempts: number;
  /** Leases out now; a message is queued again only when none is left. */
  outstanding: number;
  queued: boolean;
  availableAt: number;
}

interface Lease {
  ackId: string;
  messageId: string;
  deadline: number;
  stream: StreamState | undefined;
}

interface SubState {
  proto: SubscriptionProto;
  /** Every message not yet acked, by message id. */
  messages: Map<string, MsgState>;
  /** Ids of messages waiting for a delivery, oldest first (a Set keeps insertion order): FIFO unless `reorder`. */
  queue: Set<string>;
  leases: Map<string, Lease>;
  streams: Set<StreamState>;
  rr: number;
  dispatchScheduled: boolean;
}

interface StreamState {
  call: grpc.ServerDuplexStream<StreamingPullRequestProto, unknown>;
  sub: SubState;
  ackDeadlineMs: number;
  maxOutstanding: number;
  outstanding: Set<string>;
  open: boolean;
}

export interface FakePubSubStats {
  publishCalls: number;
  published: number;
  delivered: number;
  duplicated: number;
  acked: number;
  nacked: number;
  expired: number;
  modAcks: number;
  deadLettered: number;
  streamsOpened: number;
}

const TOPIC_NAME = /^projects\/([^/]+)\/topics\/[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
const SUBSCRIPTION_NAME = /^projects\/([^/]+)\/subscriptions\/[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
/** What the service assumes when a StreamingPull asks for no limit. */
const DEFAULT_MAX_OUTSTANDING = 1000;
const TICK_MS = 25;

class RpcError extends Error {
  constructor(
    readonly code: Code,
    readonly details: string,
  ) {
    super(details);
  }
}

function loadProtos(): grpc.GrpcObject {
  const require = createRequire(import.meta.url);
  const pubsubMain = require.resolve('@google-cloud/pubsub'); // <pkg>/build/src/index.js
  const gaxMain = createRequire(pubsubMain).resolve('google-gax'); // the gax the client itself uses
  const def = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', {
    includeDirs: [join(dirname(pubsubMain), '..', 'protos'), join(dirname(gaxMain), '..', 'protos')],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(def);
}

export class FakePubSubServer {
  /** Every Nth delivery is delivered a second time too. Unset or 0: never. */
  duplicateEvery: number | undefined;
  /** Shuffle delivery order (and hold each message back a random few ms, so publishes interleave). */
  reorder = false;
  readonly stats: FakePubSubStats = {
    publishCalls: 0,
    published: 0,
    delivered: 0,
    duplicated: 0,
    acked: 0,
    nacked: 0,
    expired: 0,
    modAcks: 0,
    deadLettered: 0,
    streamsOpened: 0,
  };

  private readonly grpcServer = new grpc.Server();
  private readonly topics = new Map<string, TopicProto & { subscriptions: Set<string> }>();
  private readonly subs = new Map<string, SubState>();
  private readonly publishFailures: Code[] = [];
  private msgSeq = 0;
  private ackSeq = 0;
  private deliveries = 0;
  private ticker: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor() {
    const v1 = (loadProtos().google as grpc.GrpcObject).pubsub as grpc.GrpcObject;
    const pkg = v1.v1 as grpc.GrpcObject;
    const publisher = pkg.Publisher as grpc.ServiceClientConstructor;
    const subscriber = pkg.Subscriber as grpc.ServiceClientConstructor;
    this.grpcServer.addService(publisher.service, {
      CreateTopic: this.unary((req: TopicProto) => this.createTopic(req)),
      GetTopic: this.unary((req: { topic: string }) => this.topicOrThrow(req.topic)),
      Publish: this.unary((req: { topic: string; messages: PubsubMessageProto[] }) => this.publish(req)),
      DeleteTopic: this.unary((req: { topic: string }) => this.deleteTopic(req.topic)),
      ListTopics: this.unary((req: { project: string }) => ({
        topics: [...this.topics.values()].filter((t) => t.name.startsWith(`${req.project}/topics/`)).map(publicTopic),
        nextPageToken: '',
      })),
      ListTopicSubscriptions: this.unary((req: { topic: string }) => ({
        subscriptions: [...this.topicOrThrow(req.topic).subscriptions],
        nextPageToken: '',
      })),
    });
    this.grpcServer.addService(subscriber.service, {
      CreateSubscription: this.unary((req: SubscriptionProto) => this.createSubscription(req)),
      GetSubscription: this.unary((req: { subscription: string }) => this.subOrThrow(req.subscription).proto),
      DeleteSubscription: this.unary((req: { subscription: string }) => this.deleteSubscription(req.subscription)),
      ListSubscriptions: this.unary((req: { project: string }) => ({
        subscriptions: [...this.subs.values()]
          .map((s) => s.proto)
          .filter((p) => p.name.startsWith(`${req.project}/subscriptions/`)),
        nextPageToken: '',
      })),
      Acknowledge: this.unary((req: { subscription: string; ackIds: string[] }) => {
        const sub = this.subOrThrow(req.subscription);
        for (const ackId of req.ackIds) this.release(sub, ackId, 'ack');
        this.scheduleDispatch(sub);
        return {};
      }),
      ModifyAckDeadline: this.unary((req: { subscription: string; ackIds: string[]; ackDeadlineSeconds: number }) => {
        const sub = this.subOrThrow(req.subscription);
        if (req.ackDeadlineSeconds < 0 || req.ackDeadlineSeconds > 600)
          throw new RpcError(grpc.status.INVALID_ARGUMENT, 'ack deadline must be 0..600 s');
        for (const ackId of req.ackIds) this.modAck(sub, ackId, req.ackDeadlineSeconds);
        this.scheduleDispatch(sub);
        return {};
      }),
      Pull: this.unary((req: { subscription: string; maxMessages: number }) => this.pull(req)),
      StreamingPull: (call: grpc.ServerDuplexStream<StreamingPullRequestProto, unknown>) => this.streamingPull(call),
    });
  }

  /** The next Publish call fails with this status (queued: call it twice to fail two). */
  failNextPublish(code: Code): void {
    this.publishFailures.push(code);
  }

  /** Messages a subscription still holds (not yet acked), for tests that look behind the client. */
  backlog(subscription: string): PubsubMessageProto[] {
    return [...(this.subs.get(subscription)?.messages.values() ?? [])].map((m) => m.message);
  }

  async listen(port = 0): Promise<number> {
    const bound = await new Promise<number>((resolve, reject) =>
      this.grpcServer.bindAsync(`localhost:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
    return bound;
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const sub of this.subs.values()) for (const s of sub.streams) s.open = false;
    this.grpcServer.forceShutdown();
  }

  // --- topics and subscriptions ---

  private createTopic(req: TopicProto): TopicProto {
    if (!TOPIC_NAME.test(req.name)) throw new RpcError(grpc.status.INVALID_ARGUMENT, `invalid topic name: ${req.name}`);
    if (this.topics.has(req.name)) throw new RpcError(grpc.status.ALREADY_EXISTS, 'Topic already exists');
    const topic = { ...req, subscriptions: new Set<string>() };
    this.topics.set(req.name, topic);
    return publicTopic(topic);
  }

  private topicOrThrow(name: string): TopicProto & { subscriptions: Set<string> } {
    const topic = this.topics.get(name);
    if (!topic) throw new RpcError(grpc.status.NOT_FOUND, 'Topic not found');
    return topic;
  }

  private deleteTopic(name: string): object {
    const topic = this.topicOrThrow(name);
    for (const s of topic.subscriptions) {
      const sub = this.subs.get(s);
      if (sub) sub.proto.topic = '_deleted-topic_';
    }
    this.topics.delete(name);
    return {};
  }

  private createSubscription(req: SubscriptionProto): SubscriptionProto {
    if (!SUBSCRIPTION_NAME.test(req.name))
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `invalid subscription name: ${req.name}`);
    if (this.subs.has(req.name)) throw new RpcError(grpc.status.ALREADY_EXISTS, 'Subscription already exists');
    const topic = this.topicOrThrow(req.topic);
    const ackDeadlineSeconds = req.ackDeadlineSeconds || 10;
    if (ackDeadlineSeconds < 10 || ackDeadlineSeconds > 600) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'ack_deadline_seconds must be 10..600');
    }
    const dlp = req.deadLetterPolicy;
    if (dlp?.deadLetterTopic) {
      const max = dlp.maxDeliveryAttempts || 5;
      if (max < 5 || max > 100)
        throw new RpcError(grpc.status.INVALID_ARGUMENT, 'max_delivery_attempts must be 5..100');
      if (!TOPIC_NAME.test(dlp.deadLetterTopic))
        throw new RpcError(grpc.status.INVALID_ARGUMENT, 'invalid dead letter topic');
      dlp.maxDeliveryAttempts = max;
    }
    const proto: SubscriptionProto = {
      ...req,
      ackDeadlineSeconds,
      deadLetterPolicy: dlp?.deadLetterTopic ? dlp : null,
    };
    this.subs.set(req.name, {
      proto,
      messages: new Map(),
      queue: new Set(),
      leases: new Map(),
      streams: new Set(),
      rr: 0,
      dispatchScheduled: false,
    });
    topic.subscriptions.add(req.name);
    return proto;
  }

  private subOrThrow(name: string): SubState {
    const sub = this.subs.get(name);
    if (!sub) throw new RpcError(grpc.status.NOT_FOUND, 'Subscription does not exist');
    return sub;
  }

  private deleteSubscription(name: string): object {
    const sub = this.subOrThrow(name);
    this.subs.delete(name);
    this.topics.get(sub.proto.topic)?.subscriptions.delete(name);
    for (const s of sub.streams) {
      s.open = false;
      s.call.emit('error', { code: grpc.status.NOT_FOUND, details: 'Subscription does not exist' });
    }
    return {};
  }

  // --- publishing ---

  private publish(req: { topic: string; messages: PubsubMessageProto[] }): { messageIds: string[] } {
    this.stats.publishCalls++;
    const injected = this.publishFailures.shift();
    if (injected !== undefined) throw new RpcError(injected, 'injected publish failure');
    const topic = this.topicOrThrow(req.topic);
    if (req.messages.length === 0) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'no messages');
    const messageIds = req.messages.map((m) => this.store(topic.subscriptions, m));
    return { messageIds };
  }

  private store(
    subscriptions: Iterable<string>,
    m: Pick<PubsubMessageProto, 'data' | 'attributes' | 'orderingKey'>,
  ): string {
    const now = Date.now();
    const messageId = String(++this.msgSeq);
    const message: PubsubMessageProto = {
      data: m.data,
      attributes: m.attributes,
      orderingKey: m.orderingKey,
      messageId,
      publishTime: { seconds: String(Math.floor(now / 1000)), nanos: (now % 1000) * 1_000_000 },
    };
    this.stats.published++;
    for (const name of subscriptions) {
      const sub = this.subs.get(name);
      if (!sub) continue;
      const availableAt = this.reorder ? now + Math.floor(Math.random() * 20) : now;
      sub.messages.set(messageId, { message, attempts: 0, outstanding: 0, queued: true, availableAt });
      sub.queue.add(messageId);
      this.scheduleDispatch(sub);
    }
    return messageId;
  }

  // --- delivery ---

  private streamingPull(call: grpc.ServerDuplexStream<StreamingPullRequestProto, unknown>): void {
    let stream: StreamState | undefined;
    const fail = (code: Code, details: string): void => {
      if (stream) stream.open = false;
      call.emit('error', { code, details });
    };
    const cleanup = (): void => {
      if (!stream) return;
      stream.open = false;
      stream.sub.streams.delete(stream);
      // Leases of a closed stream run out at their deadline, as on the service (the client nacks them first).
    };
    call.on('data', (req: StreamingPullRequestProto) => {
      try {
        if (!stream) {
          const sub = this.subOrThrow(req.subscription);
          const deadline = req.streamAckDeadlineSeconds;
          if (deadline < 1 || deadline > 600)
            throw new RpcError(grpc.status.INVALID_ARGUMENT, 'stream_ack_deadline_seconds must be 1..600');
          stream = {
            call,
            sub,
            ackDeadlineMs: deadline * 1000,
            maxOutstanding: Number(req.maxOutstandingMessages) || DEFAULT_MAX_OUTSTANDING,
            outstanding: new Set(),
            open: true,
          };
          sub.streams.add(stream);
          this.stats.streamsOpened++;
        } else if (req.streamAckDeadlineSeconds > 0) {
          stream.ackDeadlineMs = req.streamAckDeadlineSeconds * 1000;
        }
        const { sub } = stream;
        for (const ackId of req.ackIds) this.release(sub, ackId, 'ack');
        if (req.modifyDeadlineAckIds.length !== req.modifyDeadlineSeconds.length) {
          throw new RpcError(
            grpc.status.INVALID_ARGUMENT,
            'modify_deadline_seconds and modify_deadline_ack_ids differ in length',
          );
        }
        req.modifyDeadlineAckIds.forEach((ackId, i) => this.modAck(sub, ackId, req.modifyDeadlineSeconds[i]!));
        this.scheduleDispatch(sub);
      } catch (err) {
        if (err instanceof RpcError) fail(err.code, err.details);
        else fail(grpc.status.INTERNAL, String(err));
      }
    });
    call.on('end', () => {
      cleanup();
      call.end();
    });
    call.on('cancelled', cleanup);
    call.on('error', cleanup);
    call.on('close', cleanup);
  }

  private pull(req: { subscription: string; maxMessages: number }): { receivedMessages: ReceivedMessageProto[] } {
    const sub = this.subOrThrow(req.subscription);
    if (req.maxMessages < 1) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'max_messages must be positive');
    const out: ReceivedMessageProto[] = [];
    for (const m of this.ready(sub, req.maxMessages)) {
      const rm = this.lease(sub, m, undefined, sub.proto.ackDeadlineSeconds * 1000);
      if (rm) out.push(rm);
    }
    return { receivedMessages: out };
  }

  /** Messages due for delivery, at most `limit` (all of them when reordering, so the shuffle is fair). */
  private ready(sub: SubState, limit: number): MsgState[] {
    const now = Date.now();
    const ready: MsgState[] = [];
    for (const id of sub.queue) {
      if (!this.reorder && ready.length >= limit) break;
      const m = sub.messages.get(id);
      if (m && m.availableAt <= now) ready.push(m);
    }
    if (this.reorder) shuffle(ready);
    return ready.slice(0, limit);
  }

  private scheduleDispatch(sub: SubState): void {
    if (sub.dispatchScheduled) return;
    sub.dispatchScheduled = true;
    setImmediate(() => {
      sub.dispatchScheduled = false;
      this.dispatch(sub);
    });
  }

  /** Hands ready messages to open streams, round robin, each stream up to its max outstanding. */
  private dispatch(sub: SubState): void {
    if (!this.subs.has(sub.proto.name)) return;
    const streams = [...sub.streams].filter((s) => s.open);
    if (streams.length === 0) return;
    const room = streams.reduce((n, s) => n + Math.max(0, s.maxOutstanding - s.outstanding.size), 0);
    if (room === 0) return;
    const batches = new Map<StreamState, ReceivedMessageProto[]>();
    for (const m of this.ready(sub, room)) {
      const stream = this.nextStream(sub, streams);
      if (!stream) break;
      const rm = this.lease(sub, m, stream, stream.ackDeadlineMs);
      if (!rm) continue;
      const batch = batches.get(stream);
      if (batch) batch.push(rm);
      else batches.set(stream, [rm]);
      if (this.duplicateEvery && ++this.deliveries % this.duplicateEvery === 0) this.scheduleDuplicate(sub, m);
    }
    for (const [stream, receivedMessages] of batches) this.send(stream, receivedMessages);
  }

  private nextStream(sub: SubState, streams: StreamState[]): StreamState | undefined {
    for (let i = 0; i < streams.length; i++) {
      const s = streams[(sub.rr + i) % streams.length]!;
      if (s.outstanding.size < s.maxOutstanding) {
        sub.rr = (sub.rr + i + 1) % streams.length;
        return s;
      }
    }
    return undefined;
  }

  /**
   * A second delivery of a message, a little later and on any open stream, as Pub/Sub may do; even
   * when the first delivery was acked meanwhile (the service's acks are best-effort too).
   */
  private scheduleDuplicate(sub: SubState, m: MsgState): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        const streams = [...sub.streams].filter((s) => s.open);
        if (streams.length === 0) return;
        const stream = streams[Math.floor(Math.random() * streams.length)]!;
        let rm: ReceivedMessageProto | undefined;
        if (sub.messages.has(m.message.messageId)) {
          rm = this.lease(sub, m, stream, stream.ackDeadlineMs, true);
        } else {
          // Already acked: a lease on nothing, whose ack or expiry changes nothing.
          const ackId = `${sub.proto.name.split('/').pop()}:${++this.ackSeq}`;
          sub.leases.set(ackId, {
            ackId,
            messageId: m.message.messageId,
            deadline: Date.now() + stream.ackDeadlineMs,
            stream,
          });
          stream.outstanding.add(ackId);
          this.stats.delivered++;
          rm = { ackId, message: m.message, deliveryAttempt: sub.proto.deadLetterPolicy ? m.attempts + 1 : 0 };
        }
        if (!rm) return;
        this.stats.duplicated++;
        this.send(stream, [rm]);
      },
      5 + Math.floor(Math.random() * 30),
    );
    this.timers.add(timer);
  }

  private lease(
    sub: SubState,
    m: MsgState,
    stream: StreamState | undefined,
    deadlineMs: number,
    duplicate = false,
  ): ReceivedMessageProto | undefined {
    const dlp = sub.proto.deadLetterPolicy;
    if (!duplicate && dlp && m.attempts >= dlp.maxDeliveryAttempts) {
      this.forwardDeadLetter(sub, m, dlp.deadLetterTopic);
      return undefined;
    }
    m.attempts++;
    m.outstanding++;
    m.queued = false;
    sub.queue.delete(m.message.messageId);
    const ackId = `${sub.proto.name.split('/').pop()}:${++this.ackSeq}`;
    sub.leases.set(ackId, { ackId, messageId: m.message.messageId, deadline: Date.now() + deadlineMs, stream });
    stream?.outstanding.add(ackId);
    this.stats.delivered++;
    return { ackId, message: m.message, deliveryAttempt: dlp ? m.attempts : 0 };
  }

  private forwardDeadLetter(sub: SubState, m: MsgState, deadLetterTopic: string): void {
    sub.messages.delete(m.message.messageId);
    sub.queue.delete(m.message.messageId);
    this.stats.deadLettered++;
    const topic = this.topics.get(deadLetterTopic);
    if (!topic) return; // the service drops them too when the topic is gone
    const attributes = {
      ...m.message.attributes,
      CloudPubSubDeadLetterSourceSubscription: sub.proto.name.split('/').pop()!,
      CloudPubSubDeadLetterSourceDeliveryCount: String(m.attempts),
    };
    this.store(topic.subscriptions, { data: m.message.data, attributes, orderingKey: m.message.orderingKey });
  }

  private send(stream: StreamState, receivedMessages: ReceivedMessageProto[]): void {
    if (!stream.open || stream.call.cancelled || !stream.call.writable) return;
    stream.call.write({ receivedMessages });
  }

  private modAck(sub: SubState, ackId: string, seconds: number): void {
    this.stats.modAcks++;
    if (seconds === 0) {
      this.release(sub, ackId, 'nack');
      return;
    }
    const lease = sub.leases.get(ackId);
    if (lease) lease.deadline = Date.now() + seconds * 1000;
  }

  /** Ends a lease. An ack settles the message for good; a nack or expiry queues it again (after backoff). */
  private release(sub: SubState, ackId: string, why: 'ack' | 'nack' | 'expired'): void {
    const lease = sub.leases.get(ackId);
    if (!lease) return; // unknown or already expired: the service ignores these too
    sub.leases.delete(ackId);
    lease.stream?.outstanding.delete(ackId);
    const m = sub.messages.get(lease.messageId);
    if (!m) return; // acked through another delivery of it
    m.outstanding--;
    if (why === 'ack') {
      sub.messages.delete(lease.messageId);
      this.stats.acked++;
      return;
    }
    if (why === 'nack') this.stats.nacked++;
    else this.stats.expired++;
    if (m.outstanding === 0 && !m.queued) {
      m.queued = true;
      sub.queue.add(lease.messageId);
      m.availableAt = Date.now() + this.backoffMs(sub, m.attempts);
    }
  }

  private backoffMs(sub: SubState, attempts: number): number {
    const rp = sub.proto.retryPolicy;
    if (!rp) return 0;
    const min = durationMs(rp.minimumBackoff, 10_000);
    const max = durationMs(rp.maximumBackoff, 600_000);
    return Math.min(max, min * 2 ** Math.max(0, attempts - 1));
  }

  private tick(): void {
    const now = Date.now();
    for (const sub of this.subs.values()) {
      for (const lease of [...sub.leases.values()])
        if (lease.deadline <= now) this.release(sub, lease.ackId, 'expired');
      this.dispatch(sub);
    }
  }

  private unary<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      try {
        callback(null, fn(call.request));
      } catch (err) {
        if (err instanceof RpcError) callback({ code: err.code, details: err.details });
        else callback({ code: grpc.status.INTERNAL, details: String(err) });
      }
    };
  }
}

function publicTopic(t: TopicProto & { subscriptions?: Set<string> }): TopicProto {
  const { subscriptions: _omit, ...rest } = t;
  return rest;
}

function durationMs(d: DurationProto | null, fallback: number): number {
  if (!d) return fallback;
  return Number(d.seconds) * 1000 + Math.floor(d.nanos / 1_000_000);
}

function shuffle<V>(items: V[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

export interface FakePubSub {
  /** `localhost:port`, for `apiEndpoint` or `PUBSUB_EMULATOR_HOST`. */
  host: string;
  port: number;
  server: FakePubSubServer;
  stats: FakePubSubStats;
  close(): Promise<void>;
}

export async function startFakePubSub(opts: { port?: number } = {}): Promise<FakePubSub> {
  const server = new FakePubSubServer();
  const port = await server.listen(opts.port ?? 0);
  return { host: `localhost:${port}`, port, server, stats: server.stats, close: () => server.close() };
}
