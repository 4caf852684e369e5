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
 * enough to be stopped, or to lose its VM). The ledger also has each run's pid and its worker's (ppid).
 */
export const GANG_TRAINER = `
import json, os, pathlib, socket, sys, time
e = os.environ
rank, size, attempt = int(e['KUMO_GANG_RANK']), int(e['KUMO_GANG_SIZE']), int(e['KUMO_TASK_ATTEMPT'])
addr, port = e['MASTER_ADDR'], int(e['MASTER_PORT'])
with open(e['LEDGER'], 'a') as f:
    f.write(json.dumps({'rank': rank, 'attempt': attempt, 'resume': e.get('KUMO_RESUME_FROM', ''), 'hosts': json.loads(e['KUMO_GANG_HOSTS']), 'size': size, 'nnodes': int(e['NNODES']), 'node_rank': int(e['NODE_RANK']), 'pid': os.getpid(), 'ppid': os.getppid()}) + '\\n')
hold = float(e.get('HOLD_S', '0')) if not e.get('KUMO_RESUME_FROM') else 0
if rank == 0:
    srv = socket.create_server((addr, port)); srv.settimeout(30)
    conns = [srv.accept()[0] for _ in range(size - 1)]
    peers = sorted(int(c.recv(16).decode()) for c in conns)
    d = pathlib.Path(e['KUMO_CHECKPOINT_DIR']); d.mkdir(parents=True, exist_ok=True)
    p = d / 'ckpt-10.json'; p.write_text('{"step": 10}')
    print('::kumo::checkpoint ' + json.dumps({'step': 10, 'uri': str(p)}), flush=True)
    for c in conns: c.sendall(b'ok'); c.close()
    time.sleep(hold)
    print('::kumo::result ' + json.dumps({'rank': 0, 'peers': peers}), flush=True)
else:
    for _ in range(300):
        try:
            s = socket.create_connection((addr, port), timeout=1); break
        except OSError:
            time.sleep(0.1)
    s.sendall(str(rank).encode())
    s.settimeout(30); s.recv(2); s.close()
    if e.get('FAIL_RANK') == str(rank) and attempt == 1:
        print('rank failing on purpose', flush=True); sys.exit(3)
    time.sleep(hold)
    print('::kumo::result ' + json.dumps({'rank': rank}), flush=True)
`;
