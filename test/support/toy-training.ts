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
