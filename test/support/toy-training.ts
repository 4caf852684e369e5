/**
 * Tiny Python programs that keep kumo's training and evaluation contracts, for tests that need real
 * checkpoints and scores (run as `{ command: ['python3', '-c', source] }`).
 */

/** A trainer that writes `ckpt-<step>.json` ({"step": N}) at each of `steps` and reports each checkpoint. */
export function checkpointTrainer(steps: number[], pauseSeconds = 0): string {
  return `
import json, os, pathlib, time
d = pathlib.Path(os.environ['KUMO_CHECKPOINT_DIR']); d.mkdir(parents=True, exist_ok=True)
for step in ${JSON.stringify(steps)}:
    time.sleep(${pauseSeconds})
    p = d / f'ckpt-{step}.json'; p.write_text(json.dumps({'step': step}))
    print('::kumo::checkpoint ' + json.dumps({'step': step, 'uri': str(p)}), flush=True)
`;
}

/**
 * An evaluator that reads the checkpoint it is given (so it must exist where the trainer wrote it) and
 * reports {step, benchmark, score}: score = round(step / divisor + bonus[benchmark], 3).
 */
export function stepScorer(divisor: number, bonus: Record<string, number> = {}): string {
  return `
import json, os
step = json.load(open(os.environ['KUMO_CHECKPOINT']))['step']
benchmark = os.environ['KUMO_BENCHMARK']
score = round(step / ${divisor} + ${JSON.stringify(bonus)}.get(benchmark, 0), 3)
print('::kumo::result ' + json.dumps({'step': step, 'benchmark': benchmark, 'score': score}), flush=True)
`;
}

/**
 * One rank of a gang trainer that really meets its peers: rank 0 listens on MASTER_ADDR:MASTER_PORT,
 * every other rank connects and sends its rank; rank 0 then writes a checkpoint, answers each peer, and
 * reports the peers it met. Each run appends {rank, attempt, resume, hosts, size} to the file in $LEDGER.
 * With FAIL_RANK=r, rank r exits 3 on its first attempt, after its peer answered it; with HOLD_S=s,
 * every rank of a fresh start (no checkpoint to resume from) trains on for s seconds after meeting (long
 * enough to be stopped, or to lose its VM). With WATCH_PEERS=1, rank 0 ignores SIGTERM while it holds
 * and exits 5 as soon as a peer's connection closes, as a real collective would; the other ranks, on
 * SIGTERM, close their connection at once and exit 2 s later. The ledger also has each run's worker
 * (KUMO_WORKER_ID: a local worker's pid is the control plane's `local.pids()[worker]`), not pids: an
 * isolated task sees only its own pid namespace's (see test/support/task-processes.ts).
 */
export const GANG_TRAINER = `
import json, os, pathlib, select, signal, socket, sys, time
e = os.environ
rank, size, attempt = int(e['KUMO_GANG_RANK']), int(e['KUMO_GANG_SIZE']), int(e['KUMO_TASK_ATTEMPT'])
addr, port = e['MASTER_ADDR'], int(e['MASTER_PORT'])
with open(e['LEDGER'], 'a') as f:
    f.write(json.dumps({'rank': rank, 'attempt': attempt, 'resume': e.get('KUMO_RESUME_FROM', ''), 'hosts': json.loads(e['KUMO_GANG_HOSTS']), 'size': size, 'nnodes': int(e['NNODES']), 'node_rank': int(e['NODE_RANK']), 'worker': e['KUMO_WORKER_ID']}) + '\\n')
hold = float(e.get('HOLD_S', '0')) if not e.get('KUMO_RESUME_FROM') else 0
if rank == 0:
    srv = socket.create_server((addr, port)); srv.settimeout(30)
    conns = [srv.accept()[0] for _ in range(size - 1)]
    peers = sorted(int(c.recv(16).decode()) for c in conns)
    d = pathlib.Path(e['KUMO_CHECKPOINT_DIR']); d.mkdir(parents=True, exist_ok=True)
    p = d / 'ckpt-10.json'; p.write_text('{"step": 10}')
    print('::kumo::checkpoint ' + json.dumps({'step': 10, 'uri': str(p)}), flush=True)
    for c in conns: c.sendall(b'ok')
    if e.get('WATCH_PEERS'):
        # As NCCL does: a peer that goes away fails this rank too (and SIGTERM does not stop it first).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        end = time.time() + hold
        while time.time() < end:
            for c in select.select(conns, [], [], 0.1)[0]:
                if not c.recv(1):
                    print('lost a peer', flush=True); sys.exit(5)
    else:
        time.sleep(hold)
    for c in conns: c.close()
    print('::kumo::result ' + json.dumps({'rank': 0, 'peers': peers}), flush=True)
else:
    for _ in range(300):
        try:
            s = socket.create_connection((addr, port), timeout=1); break
        except OSError:
            time.sleep(0.1)
    s.sendall(str(rank).encode())
    s.settimeout(30); s.recv(2)
    if e.get('WATCH_PEERS'):
        # On SIGTERM, a real trainer drops out of the collective at once and spends its grace on a
        # checkpoint: the peers see it go well before it exits.
        def on_term(*_):
            s.close(); time.sleep(2); sys.exit(143)
        signal.signal(signal.SIGTERM, on_term)
    if e.get('FAIL_RANK') == str(rank) and attempt == 1:
        print('rank failing on purpose', flush=True); sys.exit(3)
    time.sleep(hold)
    s.close()
    print('::kumo::result ' + json.dumps({'rank': rank}), flush=True)
`;
